"""Text projection: skeleton features -> the sentence-embedding space, by ridge regression.

The "direct projection" of the zero-shot literature: each training window's target is its
class's prototype (the unit mean of its descriptions' embeddings), and a linear map with a bias
is fitted by ridge regression on features scaled to a mean norm of 1. A window is then compared
with any label's prototype by cosine (model/zeroshot.py `cosine_scorer`), centred on the mean
prototype of the training classes, which removes the direction every prototype shares
(all-MiniLM-L6-v2 embeddings of action phrases are far from centred) so that cosines rank
labels by what tells them apart. Chosen on validation (pseudo-unseen training classes):
docs/model.md, "Text projection".

Two-way (`fit_two_way_projection`): a second ridge map from a class's mean description embedding
to its windows' mean features (class level, so every class counts once), so that a label is
also compared with a window where the skeleton features live. The served score is the mean of
the two cosines (docs/model.md, "Two-way scoring"); mapping labels into the feature space is
the direction that suffers less from hubness (Shigeto et al., ECML-PKDD 2015).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from actzero.model.zeroshot import TextProjection

DEFAULT_RIDGE = 0.1


def class_means(embeddings: Sequence[np.ndarray]) -> np.ndarray:
    """(K, D) mean of each class's (M_k, D) description embeddings, float64."""
    return np.stack([np.atleast_2d(e).mean(axis=0) for e in embeddings]).astype(np.float64)


def class_prototypes(embeddings: Sequence[np.ndarray]) -> np.ndarray:
    """(K, D) unit mean of each class's (M_k, D) description embeddings."""
    means = class_means(embeddings)
    return (means / np.maximum(np.linalg.norm(means, axis=1, keepdims=True), 1e-12)).astype(np.float32)


def fit_text_projection(
    features: np.ndarray,
    labels: np.ndarray,
    prototypes: np.ndarray,
    ridge: float = DEFAULT_RIDGE,
    class_balanced: bool = True,
) -> TextProjection:
    """Ridge regression of each window's class prototype on its features.

    Args:
        features: (N, F) skeleton features of training windows.
        labels: (N,) class index of each window into `prototypes`.
        prototypes: (K, D) unit class prototypes (`class_prototypes`).
        ridge: L2 penalty on the weights and the bias, relative to features of mean norm 1.
        class_balanced: weight each window by 1 / its class's window count (times N / classes),
            so that every class pulls the map equally, however many windows it has (Bandai's
            walks have hundreds, some Kinect classes a dozen).

    Returns:
        The fitted projection (float32).
    """
    x = np.asarray(features, dtype=np.float64)
    if x.ndim != 2 or len(x) != len(labels) or len(x) == 0:
        raise ValueError(f"expected (N, F) features with a label each, got {x.shape}, {len(labels)} labels")
    scale = 1.0 / max(float(np.linalg.norm(x, axis=1).mean()), 1e-12)
    x1 = np.hstack([x * scale, np.ones((len(x), 1))])
    labels = np.asarray(labels)
    target = np.asarray(prototypes, dtype=np.float64)[labels]
    weight = np.ones((len(x), 1))
    if class_balanced:
        _, index, counts = np.unique(labels, return_inverse=True, return_counts=True)
        weight = (len(labels) / (len(counts) * counts[index]))[:, None]
    solution = np.linalg.solve(x1.T @ (weight * x1) + ridge * np.eye(x1.shape[1]), x1.T @ (weight * target))
    return TextProjection((solution[:-1] * scale).astype(np.float32), solution[-1].astype(np.float32))


def fit_label_features(
    features: np.ndarray, labels: np.ndarray, class_means: np.ndarray, ridge: float = DEFAULT_RIDGE
) -> tuple[np.ndarray, np.ndarray]:
    """Ridge regression of each class's mean features on its mean description embedding.

    Args:
        features: (N, F) skeleton features of training windows.
        labels: (N,) class index of each window into `class_means`.
        class_means: (K, D) mean description embedding per class (not normalised, so that the
            mean over a label's descriptions of their mapped embeddings is its mapped mean).
        ridge: L2 penalty on the weights (the intercept is free).

    Returns:
        (weight (D, F), bias (F,)) float32: embedding e -> e @ weight + bias.
    """
    x = np.asarray(features, dtype=np.float64)
    labels = np.asarray(labels)
    if x.ndim != 2 or len(x) != len(labels) or len(x) == 0:
        raise ValueError(f"expected (N, F) features with a label each, got {x.shape}, {len(labels)} labels")
    classes = np.unique(labels)
    if len(classes) < 2:
        raise ValueError("mapping labels to features needs at least two classes")
    targets = np.stack([x[labels == c].mean(axis=0) for c in classes])
    inputs = np.asarray(class_means, dtype=np.float64)[classes]
    in_mean, out_mean = inputs.mean(axis=0), targets.mean(axis=0)
    a = inputs - in_mean
    weight = np.linalg.solve(a.T @ a + ridge * np.eye(a.shape[1]), a.T @ (targets - out_mean))
    return weight.astype(np.float32), (out_mean - in_mean @ weight).astype(np.float32)


def fit_two_way_projection(
    features: np.ndarray,
    labels: np.ndarray,
    embeddings: Sequence[np.ndarray],
    ridge: float = DEFAULT_RIDGE,
) -> TextProjection:
    """The class-balanced forward projection plus the map from labels to features (both `ridge`).

    Args:
        features: (N, F) skeleton features of training windows.
        labels: (N,) class index of each window into `embeddings`.
        embeddings: per class (M_k, D) description embeddings.
        ridge: the penalty of both maps.
    """
    forward = fit_text_projection(features, labels, class_prototypes(embeddings), ridge)
    weight, bias = fit_label_features(features, labels, class_means(embeddings), ridge)
    return replace(forward, reverse_weight=weight, reverse_bias=bias)
