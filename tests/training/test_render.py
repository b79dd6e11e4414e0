"""Stick-figure rendering writes a picture, NaN joints included."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from actzero.model import skeleton
from actzero.training.render import render_clip


def test_render_clip_writes_a_png_with_missing_joints(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    joints = (rng.normal(size=(20, 25, 3)) * 0.1 + [0, 1, 3]).astype(np.float32)
    joints[5, skeleton.L_HAND] = np.nan
    path = render_clip(joints, tmp_path / "clip.png", n_frames=4, title="test")
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5000
