"""The conformance kit for plugin authors: ``BackboneConformance``, the checks it runs, and
``backbone_params`` for parametrizing a plugin's own tests over its installed backbones."""

from rfloc_core.testing.conformance import BackboneConformance, builds_weights
from rfloc_core.testing.pytest_plugin import backbone_params
from rfloc_core.testing.timm_conformance import TimmBackboneConformance

__all__ = ["BackboneConformance", "TimmBackboneConformance", "backbone_params", "builds_weights"]
