"""Text-aligned backbone training: the alignment loss, its effect on train_backbone, and export."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch

from actzero.training.backbone import BackboneConfig
from actzero.training.export import export_networks
from actzero.training.sadvae import SADVAE, SADVAEConfig
from actzero.training.synthetic import generate_clips
from actzero.training.text_alignment import TextProjection, sample_class_texts, text_alignment_loss
from actzero.training.train import ClipSet, TrainConfig, train_backbone

ACTIONS = ["clap hands", "drink from a cup", "jump in place"]


def _unit_rows(rng: np.random.Generator, n: int, dim: int) -> np.ndarray:
    x = rng.normal(size=(n, dim)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def test_loss_is_log_of_positives_when_windows_sit_on_their_class_text() -> None:
    texts = torch.eye(4)
    labels = torch.tensor([0, 0, 1, 2, 2, 2, 3, 1])
    loss = text_alignment_loss(texts[labels], labels, texts, temperature=0.01)
    counts = np.bincount(labels.numpy())
    # window -> text is ~0; text -> window cannot beat spreading over the class's k windows: log k
    assert float(loss) == pytest.approx(0.5 * np.mean(np.log(counts)), abs=1e-4)
    shuffled = text_alignment_loss(texts[labels.roll(1)], labels, texts, temperature=0.01)
    assert float(shuffled) > 10 * float(loss) + 1.0


def test_alignment_loss_decreases_and_aligns_a_tiny_problem() -> None:
    rng = np.random.default_rng(0)
    classes, per_class, dim = 5, 12, 24
    centres = rng.normal(size=(classes, 16)).astype(np.float32)
    labels = np.repeat(np.arange(classes), per_class)
    features = torch.from_numpy(centres[labels] + 0.3 * rng.normal(size=(len(labels), 16)).astype(np.float32))
    class_texts = [_unit_rows(rng, 3, dim) for _ in range(classes)]  # three descriptions each
    torch.manual_seed(0)
    head = TextProjection(16, dim)
    optimiser = torch.optim.Adam(head.parameters(), lr=1e-2)
    target = torch.from_numpy(labels)
    losses = []
    for _ in range(150):
        loss = text_alignment_loss(head(features), target, sample_class_texts(class_texts, rng), 0.1)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        losses.append(loss.item())
    assert np.mean(losses[-10:]) < 0.5 * np.mean(losses[:10])
    with torch.no_grad():
        means = torch.nn.functional.normalize(
            torch.from_numpy(np.stack([t.mean(0) for t in class_texts])), dim=1
        )
        accuracy = float(((head(features) @ means.T).argmax(1) == target).float().mean())
    assert accuracy > 0.9


def test_sample_class_texts_draws_each_description_and_refuses_an_empty_class() -> None:
    rng = np.random.default_rng(0)
    class_texts = [_unit_rows(rng, 2, 8), _unit_rows(rng, 1, 8)]
    drawn = {tuple(np.round(sample_class_texts(class_texts, rng)[0].numpy(), 5)) for _ in range(40)}
    assert drawn == {tuple(np.round(row, 5)) for row in class_texts[0]}
    with pytest.raises(ValueError, match="class 1"):
        sample_class_texts([class_texts[0], np.zeros((0, 8), np.float32)], rng)


@pytest.fixture(scope="module")
def tiny_setup() -> tuple[ClipSet, TrainConfig, list[np.ndarray]]:
    clips = generate_clips(ACTIONS, clips_per_class=3, seed=0)
    clip_set = ClipSet([c.joints for c in clips], np.array([ACTIONS.index(c.name) for c in clips]), ACTIONS)
    config = TrainConfig(
        epochs=2,
        windows_per_epoch=32,
        batch_size=16,
        threads=1,
        backbone=BackboneConfig(stem_channels=8, blocks=((8, 2), (16, 2)), feature_dim=16),
    )
    class_texts = [_unit_rows(np.random.default_rng(c), 2, 384) for c in range(len(ACTIONS))]
    return clip_set, config, class_texts


def test_text_weight_zero_trains_the_same_weights_as_without_texts(tiny_setup) -> None:
    clip_set, config, class_texts = tiny_setup
    plain = train_backbone(clip_set, config, seed=3).state_dict()
    with_texts = train_backbone(clip_set, config, seed=3, class_texts=class_texts).state_dict()
    assert not any(k.startswith("text_projection") for k in with_texts)
    assert plain.keys() == with_texts.keys()
    for k in plain:
        torch.testing.assert_close(plain[k], with_texts[k], rtol=0, atol=0)
    weighted = train_backbone(clip_set, replace(config, text_weight=1.0), seed=3, class_texts=class_texts)
    weighted = weighted.state_dict()
    assert not torch.equal(weighted["classifier.weight"], plain["classifier.weight"])


def test_text_weight_needs_texts_for_every_class(tiny_setup) -> None:
    clip_set, config, class_texts = tiny_setup
    config = replace(config, text_weight=1.0)
    with pytest.raises(ValueError, match="description embeddings"):
        train_backbone(clip_set, config, seed=0)
    with pytest.raises(ValueError, match="description embeddings"):
        train_backbone(clip_set, config, seed=0, class_texts=class_texts[:2])


def test_text_aligned_backbone_exports_to_onnx_that_matches_torch(tiny_setup, tmp_path) -> None:
    clip_set, config, class_texts = tiny_setup
    config = replace(config, text_weight=1.0)
    backbone = train_backbone(clip_set, config, seed=0, class_texts=class_texts)
    assert backbone.text_projection.linear.weight.shape == (384, 16)
    vae = SADVAE(16, 384, SADVAEConfig(dz_r=4, dz_v=2), skeleton_scale=0.5).eval()
    diffs = export_networks(backbone, vae, tmp_path)
    assert max(diffs.values()) < 1e-4
