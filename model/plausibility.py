"""Is a skeleton clip a body at all? A cheap check on bone lengths before classifying it.

The classifier gives a confident label to anything, random joints included ("fall down 0.9998"
for uniform noise). A body's bones keep their lengths over time and its left and right limbs
match; random points do neither. Measured (docs/reliability.md): synthetic clips and MediaPipe
on the sample video vary by at most 0.10 (median over the large bones of std / mean length over
the clip) with a left/right mismatch of at most 0.11 (median |log(left / right)|); uniform and
Gaussian noise give 0.37-0.43 and 0.33-0.76. The limits sit between them.
"""

from __future__ import annotations

import warnings

import numpy as np

from actzero.model.skeleton import (
    L_ANKLE,
    L_ELBOW,
    L_HIP,
    L_KNEE,
    L_SHOULDER,
    L_WRIST,
    NUM_JOINTS,
    R_ANKLE,
    R_ELBOW,
    R_HIP,
    R_KNEE,
    R_SHOULDER,
    R_WRIST,
    SPINE_BASE,
    SPINE_MID,
    SPINE_SHOULDER,
)

MAX_LENGTH_VARIATION = 0.25
MAX_LEFT_RIGHT_MISMATCH = 0.25

# (left bone, right bone): shoulder girdle, upper arm, forearm, pelvis, thigh, shin.
_PAIRED_BONES = (
    ((L_SHOULDER, SPINE_SHOULDER), (R_SHOULDER, SPINE_SHOULDER)),
    ((L_ELBOW, L_SHOULDER), (R_ELBOW, R_SHOULDER)),
    ((L_WRIST, L_ELBOW), (R_WRIST, R_ELBOW)),
    ((L_HIP, SPINE_BASE), (R_HIP, SPINE_BASE)),
    ((L_KNEE, L_HIP), (R_KNEE, R_HIP)),
    ((L_ANKLE, L_KNEE), (R_ANKLE, R_KNEE)),
)
_LARGE_BONES = ((SPINE_BASE, SPINE_MID), (SPINE_MID, SPINE_SHOULDER)) + tuple(
    bone for pair in _PAIRED_BONES for bone in pair
)


class ImplausibleSkeletonError(ValueError):
    """The joints do not move like one body (bone lengths change or left and right differ)."""


def _lengths(joints: np.ndarray, bones: tuple[tuple[int, int], ...]) -> np.ndarray:
    return np.stack([np.linalg.norm(joints[:, a] - joints[:, b], axis=-1) for a, b in bones], axis=1)


def check_plausible_body(joints: np.ndarray) -> None:
    """Refuse a clip whose joints are not a plausible body; accept what cannot be judged.

    Args:
        joints: (T, 25, 3) NTU-25 joints, NaN for missing ones. Other shapes, and clips whose
            large bones are all missing, are left to the caller's own checks.

    Raises:
        ImplausibleSkeletonError: the large bones' lengths vary too much over the clip, or the
            left and right limbs differ too much in length.
    """
    joints = np.asarray(joints, dtype=np.float64)
    if joints.ndim != 3 or joints.shape[1:] != (NUM_JOINTS, 3) or len(joints) == 0:
        return
    with np.errstate(invalid="ignore", divide="ignore"):
        lengths = _lengths(joints, _LARGE_BONES)
        lengths[lengths <= 0] = np.nan
        if np.isnan(lengths).all():
            return
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN bones of a partial body
            if len(joints) > 1:
                variation = float(np.nanmedian(np.nanstd(lengths, axis=0) / np.nanmean(lengths, axis=0)))
                if variation > MAX_LENGTH_VARIATION:
                    raise ImplausibleSkeletonError(
                        f"not a plausible body: its bone lengths vary by {variation:.0%} over the clip "
                        f"(a body's by under {MAX_LENGTH_VARIATION:.0%}); are the joints in NTU-25 order?"
                    )
            left = _lengths(joints, tuple(pair[0] for pair in _PAIRED_BONES))
            right = _lengths(joints, tuple(pair[1] for pair in _PAIRED_BONES))
            mismatch = float(np.nanmedian(np.abs(np.log(left / right))))
    if mismatch > MAX_LEFT_RIGHT_MISMATCH:
        raise ImplausibleSkeletonError(
            f"not a plausible body: its left and right limbs differ in length by a factor of "
            f"{np.exp(mismatch):.2f}; are the joints in NTU-25 order?"
        )
