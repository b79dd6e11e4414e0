"""The canonical NTU RGB+D 25-joint layout (Kinect v2), 0-based.

Skeleton arrays throughout actzero are float32 shaped (T, 25, 3): metres, y up, in
the source's right-handed axes (NTU camera space: a subject facing the camera has
their left at -x); NaN marks a missing or low-confidence joint (never a silent zero).
"""

from __future__ import annotations

import numpy as np

NUM_JOINTS = 25

JOINT_NAMES: tuple[str, ...] = (
    "spine_base", "spine_mid", "neck", "head",
    "l_shoulder", "l_elbow", "l_wrist", "l_hand",
    "r_shoulder", "r_elbow", "r_wrist", "r_hand",
    "l_hip", "l_knee", "l_ankle", "l_foot",
    "r_hip", "r_knee", "r_ankle", "r_foot",
    "spine_shoulder", "l_hand_tip", "l_thumb", "r_hand_tip", "r_thumb",
)  # fmt: skip

# Named indices used across the code base.
SPINE_BASE, SPINE_MID, NECK, HEAD = 0, 1, 2, 3
L_SHOULDER, L_ELBOW, L_WRIST, L_HAND = 4, 5, 6, 7
R_SHOULDER, R_ELBOW, R_WRIST, R_HAND = 8, 9, 10, 11
L_HIP, L_KNEE, L_ANKLE, L_FOOT = 12, 13, 14, 15
R_HIP, R_KNEE, R_ANKLE, R_FOOT = 16, 17, 18, 19
SPINE_SHOULDER, L_HAND_TIP, L_THUMB, R_HAND_TIP, R_THUMB = 20, 21, 22, 23, 24

# (child, parent) pairs of the usual GCN graph, 0-based; the centre joint is spine_shoulder.
BONES: tuple[tuple[int, int], ...] = (
    (0, 1), (1, 20), (2, 20), (3, 2), (4, 20), (5, 4), (6, 5), (7, 6),
    (8, 20), (9, 8), (10, 9), (11, 10), (12, 0), (13, 12), (14, 13), (15, 14),
    (16, 0), (17, 16), (18, 17), (19, 18), (21, 22), (22, 7), (23, 24), (24, 11),
)  # fmt: skip

# Parent of each joint in a tree rooted at spine_base (-1 for the root).
PARENTS: tuple[int, ...] = (
    -1, 0, 20, 2, 20, 4, 5, 6, 20, 8, 9, 10, 0, 12, 13, 14, 0, 16, 17, 18, 1, 22, 7, 24, 11,
)  # fmt: skip

# Left/right pairs (subject's own sides); MIRROR_PERM[j] is the joint that j becomes when mirrored.
LEFT_RIGHT_PAIRS: tuple[tuple[int, int], ...] = (
    (4, 8), (5, 9), (6, 10), (7, 11), (12, 16), (13, 17), (14, 18), (15, 19), (21, 23), (22, 24),
)  # fmt: skip


def _mirror_perm() -> np.ndarray:
    perm = np.arange(NUM_JOINTS)
    for left, right in LEFT_RIGHT_PAIRS:
        perm[left], perm[right] = right, left
    return perm


MIRROR_PERM: np.ndarray = _mirror_perm()
MIRROR_PERM.setflags(write=False)


def body_size(seq: np.ndarray) -> float:
    """Body size of a (T, 25, 3) sequence: the median over frames of the spine length
    (spine_base -> spine_shoulder) plus the mean shoulder width, ignoring NaN joints.

    Returns NaN when no frame has the needed joints.
    """
    seq = np.asarray(seq, dtype=np.float64)
    spine = np.linalg.norm(seq[:, SPINE_SHOULDER] - seq[:, SPINE_BASE], axis=-1)
    shoulders = np.linalg.norm(seq[:, R_SHOULDER] - seq[:, L_SHOULDER], axis=-1)
    size = spine + shoulders
    size = size[np.isfinite(size)]
    return float(np.median(size)) if size.size else float("nan")
