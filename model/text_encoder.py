"""Sentence embeddings at run time: all-MiniLM-L6-v2 on onnxruntime + tokenizers (no torch).

The ONNX graph (exported by `python -m actzero.training.export_text_encoder`) takes
`input_ids` and `attention_mask` (int64, dynamic batch and sequence length) and returns
`embeddings` (float32, (N, 384)): mean pooling over the attention mask and L2
normalisation happen inside the graph.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

DEFAULT_DIR = Path(__file__).resolve().parent / "assets" / "text_encoder"
MODEL_FILE = "model.onnx"
TOKENIZER_FILE = "tokenizer.json"
EMBEDDING_DIM = 384
MAX_TOKENS = 128


class TextEncoder:
    """Embeds sentences into L2-normalised 384-d vectors with an ONNX MiniLM."""

    def __init__(self, session: Any, tokenizer: Any, batch_size: int = 32) -> None:
        """Wrap an open onnxruntime session and a `tokenizers.Tokenizer`; prefer `TextEncoder.load`."""
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        self._session = session
        self._tokenizer = tokenizer
        self._batch_size = batch_size

    @classmethod
    def load(
        cls, path: Path | str | None = None, *, intra_op_threads: int = 1, batch_size: int = 32
    ) -> TextEncoder:
        """Open the encoder assets.

        Args:
            path: Folder holding model.onnx and tokenizer.json; None = the shipped assets.
            intra_op_threads: onnxruntime intra-op threads (0 lets onnxruntime decide).
            batch_size: Sentences per forward pass.

        Returns:
            A ready `TextEncoder`.

        Raises:
            FileNotFoundError: If the folder lacks model.onnx or tokenizer.json.
        """
        import onnxruntime as ort
        from tokenizers import Tokenizer

        folder = Path(path) if path is not None else DEFAULT_DIR
        for name in (MODEL_FILE, TOKENIZER_FILE):
            if not (folder / name).is_file():
                raise FileNotFoundError(
                    f"text encoder file {folder / name} is missing "
                    "(build it with `python -m actzero.training.export_text_encoder`)"
                )
        tokenizer = Tokenizer.from_file(str(folder / TOKENIZER_FILE))
        tokenizer.enable_truncation(max_length=MAX_TOKENS)
        tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")  # pad to the longest in each batch
        options = ort.SessionOptions()
        options.intra_op_num_threads = intra_op_threads
        options.inter_op_num_threads = 1
        session = ort.InferenceSession(
            str(folder / MODEL_FILE), sess_options=options, providers=["CPUExecutionProvider"]
        )
        return cls(session, tokenizer, batch_size=batch_size)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Embed sentences (each truncated to `MAX_TOKENS` tokens).

        Args:
            texts: Sentences; an empty sequence gives an empty (0, 384) array.

        Returns:
            float32 array (N, 384), rows with unit L2 norm, in the order of `texts`.
        """
        if isinstance(texts, str):
            raise TypeError("encode() takes a sequence of strings, not a single string")
        texts = list(texts)
        for text in texts:
            if not isinstance(text, str):
                raise TypeError(f"texts must be strings, got {type(text).__name__}")
        out = np.zeros((len(texts), EMBEDDING_DIM), dtype=np.float32)
        # Sort by length so each batch pads little; results go back to their original rows.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        for start in range(0, len(order), self._batch_size):
            rows = order[start : start + self._batch_size]
            encodings = self._tokenizer.encode_batch([texts[i] for i in rows])
            ids = np.array([e.ids for e in encodings], dtype=np.int64)
            mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
            (embeddings,) = self._session.run(["embeddings"], {"input_ids": ids, "attention_mask": mask})
            out[rows] = embeddings
        return out
