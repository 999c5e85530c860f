"""The conformance kit for plugin authors: ``BackboneConformance`` and the checks it runs."""

from rfloc_core.testing.conformance import BackboneConformance, builds_weights

__all__ = ["BackboneConformance", "builds_weights"]
