"""Text projection: ridge regression of class prototypes on skeleton features."""

from __future__ import annotations

import numpy as np
import pytest

from actzero.model.zeroshot import cosine_scorer
from actzero.training.projection import class_prototypes, fit_text_projection


def _toy(classes: int, per_class: int, seed: int):
    """Features that carry their class's text embedding through an unknown linear map, plus noise."""
    rng = np.random.default_rng(seed)
    text = rng.normal(size=(classes, 3, 48)).astype(np.float32)  # 3 descriptions per class
    mixing = rng.normal(size=(48, 32)).astype(np.float32)
    labels = np.repeat(np.arange(classes), per_class)
    features = text.mean(axis=1)[labels] @ mixing + 0.3 * rng.normal(size=(len(labels), 32))
    return list(text), features.astype(np.float32), labels


def test_prototypes_are_unit_description_means() -> None:
    embeddings = [np.array([[3.0, 0.0], [1.0, 0.0]]), np.array([[0.0, 2.0]])]
    np.testing.assert_allclose(class_prototypes(embeddings), [[1.0, 0.0], [0.0, 1.0]])


def test_projection_recognises_classes_it_was_not_fitted_on() -> None:
    text, features, labels = _toy(classes=30, per_class=20, seed=0)
    seen, unseen = np.arange(20), np.arange(20, 30)
    fit = np.isin(labels, seen)
    projection = fit_text_projection(features[fit], labels[fit], class_prototypes(text), ridge=0.1)
    scorer = cosine_scorer([text[c] for c in unseen], centre=class_prototypes(text)[seen].mean(axis=0))
    predicted = unseen[scorer.logits(projection(features[~fit])).argmax(axis=1)]
    assert (predicted == labels[~fit]).mean() > 0.8  # chance is 0.1


def test_bad_shapes_are_refused() -> None:
    with pytest.raises(ValueError, match="label"):
        fit_text_projection(np.zeros((3, 4)), np.zeros(2, dtype=int), np.eye(4))


def test_class_balanced_fit_lets_a_rare_class_pull_the_map_as_much_as_a_common_one() -> None:
    text, features, labels = _toy(classes=6, per_class=200, seed=1)
    rare = labels == 5
    keep = ~rare | (np.cumsum(rare) <= 4)  # class 5 keeps 4 windows, the others 200
    x, y, protos = features[keep], labels[keep], class_prototypes(text)

    def rare_error(balanced: bool) -> float:
        projection = fit_text_projection(x, y, protos, ridge=0.1, class_balanced=balanced)
        return float(np.linalg.norm(projection(x[y == 5]) - protos[5], axis=1).mean())

    assert rare_error(True) < rare_error(False)
