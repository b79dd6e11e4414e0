"""Skeleton-text alignment for backbone training: a projection head and a symmetric InfoNCE loss.

The backbone feature f_x of each window is projected to the sentence-embedding space
(Linear(feature_dim, text_dim)) and compared by cosine similarity with one text embedding
per training class (a randomly chosen description of the class at every step). The loss is
the mean of two cross-entropies over logits = cos / temperature:

- window -> text: each window against every training class, the target being its class;
- text -> window: each class present in the batch against every window of the batch, the
  target spread evenly over the windows of that class.

The head is a training-time aid: the exported skeleton network does not use it.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn


class TextProjection(nn.Module):
    """Linear map from backbone features (N, feature_dim) to the text space (N, text_dim), unit norm."""

    def __init__(self, feature_dim: int, text_dim: int) -> None:
        super().__init__()
        self.linear = nn.Linear(feature_dim, text_dim)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return F.normalize(self.linear(features), dim=1)


def sample_class_texts(class_texts: Sequence[np.ndarray], rng: np.random.Generator) -> torch.Tensor:
    """One description embedding per class, chosen at random, L2-normalised: (C, text_dim).

    Args:
        class_texts: Per class, the embeddings (M_c, text_dim) of its descriptions (M_c >= 1).
        rng: Source of the choice.
    """
    rows = []
    for c, texts in enumerate(class_texts):
        texts = np.asarray(texts, dtype=np.float32)
        if texts.ndim != 2 or len(texts) == 0:
            raise ValueError(f"class {c} needs at least one description embedding, got shape {texts.shape}")
        rows.append(texts[rng.integers(len(texts))])
    return F.normalize(torch.from_numpy(np.stack(rows)), dim=1)


def text_alignment_loss(
    projected: torch.Tensor, labels: torch.Tensor, texts: torch.Tensor, temperature: float
) -> torch.Tensor:
    """Symmetric InfoNCE between unit window projections and unit class texts.

    Args:
        projected: Unit-norm window projections (B, D).
        labels: Class of each window (B,), indices into `texts`.
        texts: Unit-norm text embedding of every training class (C, D).
        temperature: Divisor of the cosine similarities.

    Returns:
        Scalar loss: mean of the window -> text and text -> window cross-entropies.
    """
    logits = projected @ texts.T / temperature  # (B, C)
    window_to_text = F.cross_entropy(logits, labels)
    present = torch.unique(labels)
    positives = (labels[None, :] == present[:, None]).float()  # (P, B)
    log_probs = torch.log_softmax(logits[:, present].T, dim=1)  # each present class over the batch
    text_to_window = -((positives * log_probs).sum(1) / positives.sum(1)).mean()
    return 0.5 * (window_to_text + text_to_window)
