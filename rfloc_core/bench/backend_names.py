"""Backend names that the reports need without importing the backends themselves (and torch)."""

INT8_BACKEND = "onnxruntime-int8"
"""The ``onnx_int8`` exporter's file on ONNX Runtime's CPU provider."""
