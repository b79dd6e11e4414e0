"""Masked-motion reconstruction: the mask, the decoder, the loss, and its place in backbone training."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch

from actzero.training.backbone import BackboneConfig, GraphBackbone
from actzero.training.export import export_networks
from actzero.training.masked_motion import (
    MotionDecoder,
    cell_mask,
    frame_mask,
    masked_motion_loss,
    running_statistics_kept,
)
from actzero.training.sadvae import SADVAE, SADVAEConfig
from actzero.training.synthetic import generate_clips
from actzero.training.train import ClipSet, TrainConfig, clip_windows, train_backbone

ACTIONS = ["clap hands", "jump in place"]
TINY = BackboneConfig(stem_channels=8, blocks=((8, 2), (16, 2)), feature_dim=16)


def test_cell_mask_hides_the_asked_share_of_every_window_and_refuses_bad_ratios() -> None:
    mask = cell_mask(6, 8, 25, 0.4, torch.Generator().manual_seed(0))
    assert mask.shape == (6, 8, 25) and mask.dtype == torch.bool
    assert mask.view(6, -1).sum(1).tolist() == [80] * 6
    assert not torch.equal(mask[0], mask[1])  # each window its own cells
    frames = frame_mask(mask, 8)
    assert frames.shape == (6, 64, 25) and torch.equal(frames[:, 8:16], mask[:, 1:2].expand(6, 8, 25))
    for ratio in (0.0, 1.0, -0.2):
        with pytest.raises(ValueError, match="mask ratio"):
            cell_mask(1, 8, 25, ratio)


def test_loss_counts_only_hidden_frames() -> None:
    rng = np.random.default_rng(0)
    target = torch.from_numpy(rng.normal(size=(2, 16, 25, 3)).astype(np.float32))
    hidden = frame_mask(cell_mask(2, 2, 25, 0.5, torch.Generator().manual_seed(1)), 8)
    decoded = target.clone()
    decoded[~hidden] += 5.0  # wrong everywhere that was visible: costs nothing
    assert float(masked_motion_loss(decoded, target, hidden)) == 0.0
    decoded[hidden] += 1.0  # one unit off along each axis on every hidden joint-frame
    assert float(masked_motion_loss(decoded, target, hidden)) == pytest.approx(3.0)


def test_hidden_joints_are_reconstructed_from_their_neighbours() -> None:
    """Backbone + decoder trained on the loss alone beat the best constant guess on new windows."""
    torch.manual_seed(0)
    clips = generate_clips(ACTIONS, clips_per_class=4, seed=0)
    windows = torch.from_numpy(np.stack([clip_windows(c.joints, 64, 64)[0] for c in clips]))
    model = GraphBackbone(2, TINY)
    assert model.temporal_stride == 8
    decoder = MotionDecoder(model.feature_dim, model.temporal_stride)
    optimiser = torch.optim.Adam([*model.parameters(), *decoder.parameters()], lr=1e-2)
    generator = torch.Generator().manual_seed(0)
    train, test = windows[:6], windows[6:]
    for _ in range(80):
        hidden = frame_mask(cell_mask(len(train), 8, 25, 0.4, generator), 8)
        loss = masked_motion_loss(decoder(model.feature_map(train, hidden)), train, hidden)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
    model.eval()
    hidden = frame_mask(cell_mask(len(test), 8, 25, 0.4, generator), 8)
    with torch.no_grad():
        reconstructed = masked_motion_loss(decoder(model.feature_map(test, hidden)), test, hidden)
    constant = masked_motion_loss(train.mean(dim=(0, 1), keepdim=True).expand_as(test), test, hidden)
    assert float(reconstructed) < 0.75 * float(constant)


def test_mask_weight_trains_a_decoder_beside_the_exported_network(tmp_path) -> None:
    clips = generate_clips(ACTIONS, clips_per_class=3, seed=0)
    clip_set = ClipSet([c.joints for c in clips], np.array([ACTIONS.index(c.name) for c in clips]), ACTIONS)
    config = TrainConfig(epochs=1, windows_per_epoch=32, batch_size=16, threads=1, backbone=TINY)
    plain = train_backbone(clip_set, config, seed=2)
    masked = train_backbone(clip_set, replace(config, mask_weight=1.0), seed=2)
    assert not hasattr(plain, "motion_decoder")
    assert masked.motion_decoder.conv.out_channels == 3 * 8
    assert not torch.equal(plain.classifier.weight, masked.classifier.weight)
    vae = SADVAE(16, 384, SADVAEConfig(dz_r=4, dz_v=2), skeleton_scale=0.5).eval()
    assert max(export_networks(masked, vae, tmp_path).values()) < 1e-4


def test_the_masked_pass_leaves_the_running_statistics_alone() -> None:
    torch.manual_seed(0)
    model = GraphBackbone(2, TINY).train()
    windows = torch.randn(4, 64, 25, 3)
    hidden = frame_mask(cell_mask(4, 8, 25, 0.4), 8)
    before = {k: v.clone() for k, v in model.state_dict().items() if "running" in k}
    with running_statistics_kept(model):
        model.feature_map(windows, hidden).sum().backward()
    after = {k: v for k, v in model.state_dict().items() if "running" in k}
    assert all(torch.equal(before[k], after[k]) for k in before)
    assert model.input_norm.momentum == 0.1  # restored
    model.feature_map(windows)  # an ordinary training pass does move them
    assert not torch.equal(before["input_norm.running_mean"], model.input_norm.running_mean)


def test_mask_weight_refuses_a_window_the_feature_map_does_not_divide() -> None:
    clips = generate_clips(ACTIONS, clips_per_class=1, seed=0)
    clip_set = ClipSet([c.joints for c in clips], np.array([0, 1]), ACTIONS)
    config = TrainConfig(epochs=1, windows_per_epoch=8, window=60, threads=1, backbone=TINY, mask_weight=1.0)
    with pytest.raises(ValueError, match="multiple of 8"):
        train_backbone(clip_set, config)
