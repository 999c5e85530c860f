"""The mobilenetv3 plugin passes the rfloc conformance kit."""

from rfloc_core.testing import TimmBackboneConformance


class TestMobilenetv3Conformance(TimmBackboneConformance):
    plugin = "mobilenetv3"
    variants = ("mobilenetv3_small_100",)
