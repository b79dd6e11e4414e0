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
