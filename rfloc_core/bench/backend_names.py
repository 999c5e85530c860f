"""Backend names that the reports need without importing the backends themselves (and torch)."""

INT8_BACKEND = "onnxruntime-int8"
"""The ``onnx_int8`` exporter's file on ONNX Runtime's CPU provider."""

EXPORTED_ACCURACY_BACKENDS = (INT8_BACKEND,)
"""Backends whose files are tested for accuracy on their own. The float32 exports are
validated against PyTorch within float32 rounding, so the PyTorch model's accuracy is theirs."""
