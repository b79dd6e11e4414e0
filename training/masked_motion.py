"""Masked-motion reconstruction, a self-supervised auxiliary loss for backbone training.

In the spirit of SkeletonMAE (Wu et al., 2023) and masked motion prediction (Mao et al., 2023),
adapted to the graph backbone: cells of (joint, span of frames) are hidden from the network
(set to the root, the origin of the canonical frame) and a pointwise decoder reconstructs the
hidden joints' positions from the backbone's feature map before pooling. One cell is one step
of that map (`span` frames = the backbone's total temporal stride), so a hidden cell must be
inferred from the neighbouring joints and steps.

The decoder is a training-time aid like the text projection: the exported network has no use
for it. The masked pass must not move the batch-norm running statistics, which serve the
unmasked inputs at run time (`running_statistics_kept`).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch
from torch import nn

from actzero.training.backbone import GraphBackbone


def cell_mask(
    batch: int, steps: int, joints: int, ratio: float, generator: torch.Generator | None = None
) -> torch.Tensor:
    """Random boolean mask (batch, steps, joints), `round(ratio * steps * joints)` cells True per window."""
    if not 0.0 < ratio < 1.0:
        raise ValueError(f"mask ratio must be in (0, 1), got {ratio}")
    cells = steps * joints
    hidden = max(1, round(ratio * cells))
    order = torch.rand(batch, cells, generator=generator).argsort(dim=1)
    mask = torch.zeros(batch, cells, dtype=torch.bool)
    mask.scatter_(1, order[:, :hidden], True)
    return mask.view(batch, steps, joints)


def frame_mask(cells: torch.Tensor, span: int) -> torch.Tensor:
    """A cell mask (N, S, V) widened to frames (N, S * span, V)."""
    return cells.repeat_interleave(span, dim=1)


class MotionDecoder(nn.Module):
    """Pointwise map from a feature map (N, C, S, V) to joint positions (N, S * span, V, 3)."""

    def __init__(self, channels: int, span: int) -> None:
        super().__init__()
        self.span = span
        self.conv = nn.Conv2d(channels, 3 * span, kernel_size=1)

    def forward(self, feature_map: torch.Tensor) -> torch.Tensor:
        n, _, steps, joints = feature_map.shape
        y = self.conv(feature_map).view(n, self.span, 3, steps, joints)
        return y.permute(0, 3, 1, 4, 2).reshape(n, steps * self.span, joints, 3)


def masked_motion_loss(decoded: torch.Tensor, target: torch.Tensor, frames: torch.Tensor) -> torch.Tensor:
    """Mean squared error of the decoded positions on the hidden frames only.

    Args:
        decoded: Reconstructed windows (N, T, V, 3).
        target: The windows the network would have seen unmasked (N, T, V, 3).
        frames: Hidden joint-frames (N, T, V), boolean.
    """
    error = ((decoded - target) ** 2).sum(dim=-1)  # (N, T, V)
    weight = frames.to(error.dtype)
    return (error * weight).sum() / weight.sum().clamp_min(1.0)


@contextmanager
def running_statistics_kept(model: nn.Module) -> Iterator[None]:
    """Within the block, batch-norm layers normalise by batch statistics but keep their running ones."""
    norms = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    momenta = [m.momentum for m in norms]
    for m in norms:
        m.momentum = 0.0  # running <- (1 - 0) * running + 0 * batch
    try:
        yield
    finally:
        for m, momentum in zip(norms, momenta, strict=True):
            m.momentum = momentum


def masked_pass_loss(
    model: GraphBackbone, windows: torch.Tensor, ratio: float, generator: torch.Generator
) -> torch.Tensor:
    """The masked-motion loss of one batch (N, T, 25, 3): hide cells, reconstruct, score the hidden.

    `model` carries its `motion_decoder` (train_backbone adds it).
    """
    stride = model.temporal_stride
    cells = cell_mask(len(windows), windows.shape[1] // stride, windows.shape[2], ratio, generator)
    hidden = frame_mask(cells, stride).to(windows.device)
    with running_statistics_kept(model):
        decoded = model.motion_decoder(model.feature_map(windows, hidden))
    with torch.no_grad():
        clean = model.network_input(windows)
    return masked_motion_loss(decoded, clean, hidden)
