"""Text handling: normalisation and feature extraction."""

from qinggan.text.normalize import check_text, normalize

__all__ = ["check_text", "normalize"]
