"""Text projection: ridge regression of class prototypes on skeleton features."""

from __future__ import annotations

import numpy as np
import pytest

from actzero.model.zeroshot import TextProjection, cosine_scorer
from actzero.training.projection import (
    class_prototypes,
    fit_label_features,
    fit_text_projection,
    fit_two_way_projection,
)


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


def test_labels_map_to_the_mean_features_of_their_classes() -> None:
    rng = np.random.default_rng(3)
    means = rng.normal(size=(40, 8))  # class mean embeddings
    truth_w, truth_b = rng.normal(size=(8, 5)), rng.normal(size=5)
    labels = np.repeat(np.arange(40), 6)
    noise = rng.normal(size=(len(labels), 5))
    noise -= np.stack([noise[labels == c].mean(axis=0) for c in range(40)])[labels]  # class means exact
    features = (means @ truth_w + truth_b)[labels] + noise
    weight, bias = fit_label_features(features, labels, means, ridge=1e-6)
    np.testing.assert_allclose(weight, truth_w, atol=1e-4)
    np.testing.assert_allclose(bias, truth_b, atol=1e-4)
    with pytest.raises(ValueError, match="two classes"):
        fit_label_features(features[:6], labels[:6], means)


def test_two_way_scores_are_the_mean_of_the_cosines_in_both_spaces() -> None:
    text, features, labels = _toy(classes=12, per_class=10, seed=4)
    projection = fit_two_way_projection(features, labels, text)
    assert projection.two_way and projection.blocks == (48, 32)
    labels_in = [projection.label_latents(t) for t in text]
    centre = np.mean([m.mean(axis=0) for m in labels_in], axis=0)
    scores = cosine_scorer(labels_in, centre, projection.blocks).logits(projection.window_latents(features))

    def cos(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        a = a / np.linalg.norm(a, axis=1, keepdims=True)
        return a @ (b / np.linalg.norm(b, axis=1, keepdims=True)).T

    protos = np.stack([m.mean(axis=0) for m in labels_in]) - centre
    text_cos = cos(projection(features) - centre[:48], protos[:, :48])
    feature_cos = cos(features - centre[48:], protos[:, 48:])
    np.testing.assert_allclose(scores, (text_cos + feature_cos) / 2, atol=1e-5)


def test_two_way_recognises_classes_it_was_not_fitted_on() -> None:
    text, features, labels = _toy(classes=30, per_class=20, seed=0)
    seen, unseen = np.arange(20), np.arange(20, 30)
    fit = np.isin(labels, seen)
    projection = fit_two_way_projection(features[fit], labels[fit], [text[c] for c in range(30)])
    centre = np.mean([projection.label_latents(text[c]).mean(axis=0) for c in seen], axis=0)
    scorer = cosine_scorer([projection.label_latents(text[c]) for c in unseen], centre, projection.blocks)
    predicted = unseen[scorer.logits(projection.window_latents(features[~fit])).argmax(axis=1)]
    assert (predicted == labels[~fit]).mean() > 0.8  # chance is 0.1


def test_a_reverse_map_must_be_whole_and_fit_the_forward_one() -> None:
    weight, bias = np.zeros((4, 6), np.float32), np.zeros(6, np.float32)
    with pytest.raises(ValueError, match="both"):
        TextProjection(weight, bias, reverse_weight=np.zeros((6, 4), np.float32))
    with pytest.raises(ValueError, match="does not fit"):
        TextProjection(weight, bias, np.zeros((4, 6), np.float32), np.zeros(4, np.float32))
    with pytest.raises(ValueError, match="add up"):
        cosine_scorer([np.ones((1, 10))], blocks=(6, 3))
