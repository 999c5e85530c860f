from rfloc_core.testing import BackboneConformance


class TestResnetConformance(BackboneConformance):
    plugin = "resnet"
