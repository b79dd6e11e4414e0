"""Stick-figure pictures of NTU-25 clips, for checking motions and class descriptions by eye."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from actzero.model import skeleton

_LEFT = {j for pair in skeleton.LEFT_RIGHT_PAIRS for j in pair[:1]}
_RIGHT = {j for pair in skeleton.LEFT_RIGHT_PAIRS for j in pair[1:]}


def _bone_colour(child: int) -> str:
    return "tab:blue" if child in _LEFT else "tab:red" if child in _RIGHT else "black"


def render_clip(joints: np.ndarray, path: str | Path, n_frames: int = 6, title: str = "") -> Path:
    """Draw `n_frames` evenly spaced frames of a clip, front view above and side view below.

    Front view: as seen by a camera at -z looking along +z (the subject's left on the
    picture's right when facing the camera). Side view: z horizontal, y up. The subject's
    left side is blue, the right side red; all panels share one scale, so travel is visible.

    Args:
        joints: (T, 25, 3) NTU-25 joints, metres, y up (NaN joints are left out).
        path: output .png file.
        n_frames: number of frames to draw.
        title: optional figure title.

    Returns:
        The written path.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    joints = np.asarray(joints, dtype=np.float64)
    frames = np.unique(np.linspace(0, len(joints) - 1, n_frames).round().astype(int))
    shown = joints[frames]
    lo, hi = np.nanmin(shown, axis=(0, 1)), np.nanmax(shown, axis=(0, 1))
    centre, half = (lo + hi) / 2, max(float(np.nanmax(hi - lo)) / 2, 0.3) * 1.05
    fig, axes = plt.subplots(2, len(frames), figsize=(2.2 * len(frames), 5.0), squeeze=False)
    for row, label in enumerate(("front (-x | y)", "side (z | y)")):
        for col, t in enumerate(frames):
            ax = axes[row, col]
            pose = joints[t]
            h, hc = (-pose[:, 0], -centre[0]) if row == 0 else (pose[:, 2], centre[2])
            v = pose[:, 1]
            for child, parent in skeleton.BONES:
                ax.plot([h[child], h[parent]], [v[child], v[parent]], color=_bone_colour(child), lw=1.5)
            ax.scatter(h, v, s=4, color="black")
            ax.set_xlim(hc - half, hc + half)
            ax.set_ylim(centre[1] - half, centre[1] + half)
            ax.set_aspect("equal")
            ax.set_xticks([])
            ax.set_yticks([])
            if row == 0:
                ax.set_title(f"t={t}", fontsize=8)
            if col == 0:
                ax.set_ylabel(label, fontsize=8)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return path
