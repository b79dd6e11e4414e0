"""The graph backbone: graph partitions, shapes, non-negative features, learning a toy task."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from actzero.model.skeleton import BONES
from actzero.training.backbone import BackboneConfig, GraphBackbone, graph_partitions, motion_features

TINY = BackboneConfig(stem_channels=8, blocks=((8, 2), (16, 2)), feature_dim=16)


@pytest.fixture(autouse=True)
def _one_torch_thread():
    """Tiny tensors: one thread avoids thread-sync stalls on a busy 2-core machine."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def test_partitions_follow_the_bones() -> None:
    adj = graph_partitions()
    assert adj.shape == (3, 25, 25)
    np.testing.assert_array_equal(adj[0], np.eye(25))
    child, parent = BONES[0]
    assert adj[1, child, parent] > 0 and adj[2, parent, child] > 0
    assert adj[1, parent, child] == 0


def test_motion_features_are_positions_bones_and_velocity() -> None:
    x = torch.randn(2, 5, 25, 3)
    feats = motion_features(x)
    assert feats.shape == (2, 9, 5, 25)
    torch.testing.assert_close(feats[:, :3], x.permute(0, 3, 1, 2))
    torch.testing.assert_close(feats[:, 6:, 1], (x[:, 2] - x[:, 1]).permute(0, 2, 1))


def test_forward_shapes_and_non_negative_features() -> None:
    model = GraphBackbone(5, TINY).eval()
    features, logits = model(torch.randn(3, 64, 25, 3))
    assert features.shape == (3, 16) and logits.shape == (3, 5)
    assert (features >= 0).all()


def test_learns_to_separate_two_motions() -> None:
    torch.manual_seed(0)
    t = torch.arange(64, dtype=torch.float32)[:, None, None] / 30
    base = torch.randn(25, 3) * 0.3
    slow = base + 0.2 * torch.sin(2 * torch.pi * 0.5 * t)
    fast = base + 0.2 * torch.sin(2 * torch.pi * 3.0 * t)
    x = torch.stack([slow, fast] * 8) + 0.02 * torch.randn(16, 64, 25, 3)
    y = torch.tensor([0, 1] * 8)
    model = GraphBackbone(2, TINY)
    optimiser = torch.optim.Adam(model.parameters(), lr=1e-2)
    losses = []
    for _ in range(30):
        loss = F.cross_entropy(model(x)[1], y)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        losses.append(loss.item())
    assert losses[-1] < 0.3 * losses[0]
    with torch.no_grad():  # settle the batch-norm running statistics, then predict in eval mode
        for _ in range(20):
            model(x)
    assert (model.eval()(x)[1].argmax(1) == y).all()


def test_temporal_smoothing_is_a_gaussian_low_pass_that_holds_the_ends() -> None:
    from scipy.ndimage import gaussian_filter1d

    from actzero.training.backbone import gaussian_kernel, smooth_in_time

    taps = gaussian_kernel(1.5)
    assert len(taps) == 11 and taps.sum() == pytest.approx(1.0) and np.allclose(taps, taps[::-1])
    rng = np.random.default_rng(0)
    noisy = rng.normal(size=(2, 64, 25, 3)).astype(np.float32)
    smoothed = smooth_in_time(torch.from_numpy(noisy), torch.from_numpy(taps)).numpy()
    want = gaussian_filter1d(noisy, 1.5, axis=1, mode="nearest", truncate=3.0)
    np.testing.assert_allclose(smoothed, want, atol=1e-5)
    assert smoothed.std() < 0.5 * noisy.std()  # white noise is mostly high frequency
    ramp = np.broadcast_to(np.linspace(0, 1, 64)[None, :, None, None], (1, 64, 25, 3)).astype(np.float32)
    out = smooth_in_time(torch.from_numpy(ramp.copy()), torch.from_numpy(taps)).numpy()
    np.testing.assert_allclose(out[:, 5:-5], ramp[:, 5:-5], atol=1e-6)  # a steady motion passes


def test_the_smoothing_is_part_of_the_network_and_not_of_its_weights() -> None:
    torch.manual_seed(0)
    plain = GraphBackbone(4, TINY).eval()
    smooth = GraphBackbone(4, BackboneConfig(**{**TINY.__dict__, "smooth_sigma": 2.0})).eval()
    assert smooth.state_dict().keys() == plain.state_dict().keys()
    smooth.load_state_dict(plain.state_dict())
    windows = torch.randn(3, 64, 25, 3)
    with torch.no_grad():
        assert not torch.allclose(smooth.features(windows), plain.features(windows))
        steady = windows[:, :1].expand(3, 64, 25, 3).contiguous()  # no motion: nothing to filter
        torch.testing.assert_close(smooth.features(steady), plain.features(steady))
    assert BackboneConfig.from_dict({**TINY.to_dict(), "smooth_sigma": 2.0}).smooth_sigma == 2.0
    old = {k: v for k, v in TINY.to_dict().items() if k != "smooth_sigma"}  # manifests before it
    assert BackboneConfig.from_dict(old).smooth_sigma == 0.0
