"""Fixed numbers of the tensor contract, importable without torch."""

from __future__ import annotations

from rfloc_core.specs import InputSize

DEFAULT_RECEIVERS = 7
DEFAULT_INPUT_SIZE: InputSize = (128, 32)
"""(mel_bins, frames) of the default log-mel front end."""

INPUT_LAYOUT = "(batch, receivers, mel_bins, frames)"
INPUT_NAME = "spectrogram"

ONNX_OPSET = 18
"""The ONNX opset every exported model targets."""
