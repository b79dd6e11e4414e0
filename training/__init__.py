"""Data sets, training loops, evaluation and ONNX export (needs the [train] extra: torch)."""
