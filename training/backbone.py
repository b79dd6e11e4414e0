"""A small spatio-temporal graph convolution network (ST-GCN-like) over NTU-25 windows.

Input: canonical windows (N, T, 25, 3). Inside the network each joint gets 9 channels:
its position, its bone vector (joint minus parent) and its velocity (frame difference).
Graph convolutions use three partitions of the skeleton graph (self, towards the root,
away from the root) plus a learnt per-block correction; temporal convolutions stride
early so the network stays cheap enough for real-time CPU inference. The pooled feature
f_x is non-negative (ReLU before global average pooling).

Layout: a strided temporal stem (T -> T/2) on the 9 input channels, graph blocks, and a
pointwise expansion to `feature_dim` channels before pooling.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from actzero.model.skeleton import BONES, NUM_JOINTS, PARENTS

INPUT_CHANNELS = 9  # joints + bones + velocity, 3 each


@dataclass(frozen=True)
class BackboneConfig:
    """Sizes of the graph network: one (out_channels, temporal_stride) per block."""

    stem_channels: int = 32
    blocks: tuple[tuple[int, int], ...] = ((32, 2), (48, 1), (64, 2), (64, 1))
    feature_dim: int = 128
    temporal_kernel: int = 3
    dropout: float = 0.2
    smooth_sigma: float = 0.0  # Gaussian low-pass in time of the input windows (model frames; 0: none)

    def to_dict(self) -> dict:
        """Plain-JSON form (for manifests and checkpoints)."""
        return {k: [list(b) for b in v] if k == "blocks" else v for k, v in asdict(self).items()}

    @classmethod
    def from_dict(cls, data: dict) -> BackboneConfig:
        """Inverse of `to_dict`."""
        data = dict(data)
        data["blocks"] = tuple(tuple(b) for b in data["blocks"])
        return cls(**data)


def graph_partitions() -> np.ndarray:
    """Normalised adjacency of the NTU-25 bone graph in three partitions, (3, 25, 25) float32.

    Partition 0 is the identity, 1 maps each joint to its parent side (inward), 2 the
    reverse (outward); rows of 1 and 2 are normalised by in-degree.
    """
    inward = np.zeros((NUM_JOINTS, NUM_JOINTS), dtype=np.float32)
    for child, parent in BONES:
        inward[child, parent] = 1.0
    outward = inward.T.copy()

    def normalise(adj: np.ndarray) -> np.ndarray:
        degree = adj.sum(axis=0)
        scale = np.where(degree > 0, 1.0 / np.maximum(degree, 1e-6), 0.0)
        return (adj * scale[None, :]).astype(np.float32)

    return np.stack([np.eye(NUM_JOINTS, dtype=np.float32), normalise(inward), normalise(outward)])


class GraphConv(nn.Module):
    """Spatial graph convolution: x (N, C, T, V) -> (N, C_out, T, V)."""

    def __init__(self, in_channels: int, out_channels: int, adjacency: np.ndarray) -> None:
        super().__init__()
        self.partitions = adjacency.shape[0]
        self.out_channels = out_channels
        self.register_buffer("adjacency", torch.from_numpy(adjacency))
        self.correction = nn.Parameter(torch.zeros_like(self.adjacency))
        self.conv = nn.Conv2d(in_channels, out_channels * self.partitions, kernel_size=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, _, t, v = x.shape
        y = self.conv(x).view(n, self.partitions, self.out_channels, t, v)
        return torch.einsum("nkctv,kvw->nctw", y, self.adjacency + self.correction)


class GraphBlock(nn.Module):
    """Graph conv -> BN -> ReLU -> strided temporal conv -> BN, with a residual, then ReLU."""

    def __init__(
        self, in_channels: int, out_channels: int, stride: int, kernel: int, adjacency: np.ndarray
    ) -> None:
        super().__init__()
        self.gcn = GraphConv(in_channels, out_channels, adjacency)
        self.bn1 = nn.BatchNorm2d(out_channels)
        pad = (kernel - 1) // 2
        self.tcn = nn.Conv2d(
            out_channels, out_channels, (kernel, 1), stride=(stride, 1), padding=(pad, 0), bias=False
        )
        self.bn2 = nn.BatchNorm2d(out_channels)
        if in_channels == out_channels and stride == 1:
            self.residual: nn.Module = nn.Identity()
        else:
            self.residual = nn.Sequential(
                nn.Conv2d(in_channels, out_channels, 1, stride=(stride, 1), bias=False),
                nn.BatchNorm2d(out_channels),
            )
        self.relu = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.relu(self.bn1(self.gcn(x)))
        y = self.bn2(self.tcn(y))
        return self.relu(y + self.residual(x))


def motion_features(windows: torch.Tensor) -> torch.Tensor:
    """Joints, bone vectors and velocities of windows (N, T, V, 3) as (N, 9, T, V)."""
    x = windows.permute(0, 3, 1, 2)  # (N, 3, T, V)
    parents = [max(p, 0) for p in PARENTS]
    bones = x - x[:, :, :, parents]
    velocity = torch.cat([x[:, :, 1:] - x[:, :, :-1], torch.zeros_like(x[:, :, :1])], dim=2)
    return torch.cat([x, bones, velocity], dim=1)


def gaussian_kernel(sigma: float) -> np.ndarray:
    """Normalised Gaussian taps (2 * ceil(3 sigma) + 1,) float32 for a temporal low-pass."""
    half = int(np.ceil(3.0 * sigma))
    taps = np.exp(-0.5 * (np.arange(-half, half + 1) / sigma) ** 2)
    return (taps / taps.sum()).astype(np.float32)


def smooth_in_time(windows: torch.Tensor, kernel: torch.Tensor) -> torch.Tensor:
    """Windows (N, T, V, 3) filtered along T by `kernel` (K,), the ends held (replicate padding)."""
    half = (kernel.numel() - 1) // 2
    x = F.pad(windows.permute(0, 3, 1, 2), (0, 0, half, half), mode="replicate")  # (N, 3, T + K - 1, V)
    x = F.conv2d(x, kernel.view(1, 1, -1, 1).expand(3, 1, -1, 1), groups=3)
    return x.permute(0, 2, 3, 1)


class GraphBackbone(nn.Module):
    """ST-GCN-like classifier; `forward` returns (pooled feature f_x, seen-class logits)."""

    def __init__(self, num_classes: int, config: BackboneConfig | None = None) -> None:
        super().__init__()
        self.config = config or BackboneConfig()
        self.num_classes = num_classes
        adjacency = graph_partitions()
        self.input_norm = nn.BatchNorm1d(INPUT_CHANNELS * NUM_JOINTS)
        kernel = self.config.temporal_kernel
        channels = self.config.stem_channels
        self.stem = nn.Sequential(
            nn.Conv2d(INPUT_CHANNELS, channels, (kernel, 1), stride=(2, 1), padding=((kernel - 1) // 2, 0)),
            nn.BatchNorm2d(channels),
            nn.ReLU(),
        )
        blocks = []
        for out_channels, stride in self.config.blocks:
            blocks.append(GraphBlock(channels, out_channels, stride, kernel, adjacency))
            channels = out_channels
        self.blocks = nn.Sequential(*blocks)
        self.head = nn.Sequential(
            nn.Conv2d(channels, self.config.feature_dim, 1),
            nn.BatchNorm2d(self.config.feature_dim),
            nn.ReLU(),
        )
        self.dropout = nn.Dropout(self.config.dropout)
        self.classifier = nn.Linear(self.config.feature_dim, num_classes)
        sigma = self.config.smooth_sigma
        taps = torch.from_numpy(gaussian_kernel(sigma)) if sigma > 0 else None
        self.register_buffer("smoothing", taps, persistent=False)  # set by the config, not saved

    @property
    def feature_dim(self) -> int:
        """Size of f_x."""
        return self.config.feature_dim

    @property
    def temporal_stride(self) -> int:
        """Frames per step of the feature map (the product of the stem's and blocks' strides)."""
        return 2 * math.prod(stride for _, stride in self.config.blocks)

    def network_input(self, windows: torch.Tensor) -> torch.Tensor:
        """The windows as the graph layers see them (after the temporal low-pass, if any)."""
        return windows if self.smoothing is None else smooth_in_time(windows, self.smoothing)

    def feature_map(self, windows: torch.Tensor, hidden: torch.Tensor | None = None) -> torch.Tensor:
        """Features before pooling (N, feature_dim, T / temporal_stride, 25) of windows (N, T, 25, 3).

        `hidden` (N, T, 25), boolean, puts those joint-frames at the root (origin) after the
        low-pass: the input of masked-motion training (training/masked_motion.py).
        """
        windows = self.network_input(windows)
        if hidden is not None:
            windows = windows.masked_fill(hidden[..., None], 0.0)
        x = motion_features(windows)
        n, c, t, v = x.shape
        x = self.input_norm(x.permute(0, 1, 3, 2).reshape(n, c * v, t))
        x = x.view(n, c, v, t).permute(0, 1, 3, 2)
        return self.head(self.blocks(self.stem(x)))

    def features(self, windows: torch.Tensor) -> torch.Tensor:
        """Pooled non-negative features (N, feature_dim) of canonical windows (N, T, 25, 3)."""
        return self.feature_map(windows).mean(dim=(2, 3))

    def forward(self, windows: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        features = self.features(windows)
        return features, self.classifier(self.dropout(features))


def count_macs(config: BackboneConfig, window: int = 64) -> int:
    """Multiply-accumulates of one forward pass for one window (convolutions and graph products)."""
    t = (window + 1) // 2
    channels = config.stem_channels
    macs = INPUT_CHANNELS * channels * config.temporal_kernel * t * NUM_JOINTS
    for out_channels, stride in config.blocks:
        macs += channels * out_channels * 3 * t * NUM_JOINTS  # 1x1 conv to 3 partitions
        macs += 3 * out_channels * t * NUM_JOINTS * NUM_JOINTS  # graph product
        t_out = (t + stride - 1) // stride
        macs += out_channels * out_channels * config.temporal_kernel * t_out * NUM_JOINTS
        if channels != out_channels or stride != 1:
            macs += channels * out_channels * t_out * NUM_JOINTS
        channels, t = out_channels, t_out
    return macs + channels * config.feature_dim * t * NUM_JOINTS
