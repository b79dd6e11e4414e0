"""MediaPipe Pose (BlazePose, 33 landmarks) -> NTU-25 joints, metres, y up.

Every NTU joint is a fixed linear combination of MediaPipe landmarks (a (25, 33) matrix,
`MAPPING_MATRIX`), so one matrix product maps any batch of poses. A joint is NaN when one
of the landmarks it is made from is below the visibility threshold (never a silent zero).

Axes: MediaPipe's world landmarks have image-like axes (x to the image's right, y down,
z away from the camera; right-handed). They are turned by 180 degrees about z, i.e.
(x, y, z) -> (-x, -y, z): a proper rotation (det +1), not a mirror, so the subject's left
stays left. The result has Kinect's camera-space axes as in NTU RGB+D: x to the camera's
left, y up, z away from the camera.

Layout: the NTU joints are placed where the training data (Bandai Namco BVH -> NTU-25 in
model/bvh.py) puts them, measured with studies/skeleton_gap.py on real MediaPipe output
(the sports2d video) against Bandai walk clips (numbers beside each constant). Kinect v2's
hips sit higher and closer together than MediaPipe's (docs/skeletons.md), but the training
rig's hips are the anatomical hip joints, in the same proportion to the shoulders as
MediaPipe's, so the hip correction is the identity (HIP_WIDTH_SCALE = 1, HIP_RAISE = 0).
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from actzero.model import skeleton as sk

NUM_LANDMARKS = 33

# MediaPipe landmark indices used here (0-based, subject's own left/right).
MP_NOSE = 0
MP_L_EAR, MP_R_EAR = 7, 8
MP_L_SHOULDER, MP_R_SHOULDER = 11, 12
MP_L_ELBOW, MP_R_ELBOW = 13, 14
MP_L_WRIST, MP_R_WRIST = 15, 16
MP_L_PINKY, MP_R_PINKY = 17, 18
MP_L_INDEX, MP_R_INDEX = 19, 20
MP_L_THUMB, MP_R_THUMB = 21, 22
MP_L_HIP, MP_R_HIP = 23, 24
MP_L_KNEE, MP_R_KNEE = 25, 26
MP_L_ANKLE, MP_R_ANKLE = 27, 28
MP_L_HEEL, MP_R_HEEL = 29, 30
MP_L_FOOT_INDEX, MP_R_FOOT_INDEX = 31, 32

# Hips: each hip's offset from the hips' midpoint is scaled by HIP_WIDTH_SCALE and both hips
# move up by HIP_RAISE times the mid-hip -> mid-shoulder vector. Hip width / shoulder width:
# MediaPipe 0.657, BVH 0.643 -> no correction (a Kinect-trained model would want < 1 and > 0).
HIP_WIDTH_SCALE = 1.0
HIP_RAISE = 0.0
# spine_base = the pelvis, above the hip joints: BVH 0.055 of mid-hip -> mid-shoulder.
SPINE_BASE_RAISE = 0.05
# spine_shoulder = base of the neck, above the shoulder joints: BVH 0.086 of mid-hip -> mid-shoulder
# (4 cm), the synthetic body 2.6 cm; with it the shoulders hang below spine_shoulder as in both.
SPINE_SHOULDER_RAISE = 0.07
# spine_mid along spine_base -> spine_shoulder: BVH 0.49.
SPINE_MID_FRACTION = 0.5
# neck along spine_shoulder -> head (mid-ears): BVH 0.39.
NECK_FRACTION = 0.4
# hand = palm (mean of the pinky and index knuckles, ~8 cm from the wrist; BVH 8 cm). MediaPipe's
# index and thumb landmarks sit near the finger bases (wrist -> index 8.3 cm, -> thumb 2.2 cm):
# hand tip and thumb tip are extrapolated along wrist -> landmark (BVH: 16 cm and 6.4 cm).
HAND_TIP_EXTENSION = 2.0
THUMB_EXTENSION = 2.5
# foot = ball of the foot along ankle -> foot index (MediaPipe 15 cm, BVH ankle -> toes 11.8 cm).
FOOT_FRACTION = 0.8

# (x, y, z) -> (-x, -y, z): MediaPipe's y-down axes to NTU's y-up axes (rotation about z).
AXES = np.diag([-1.0, -1.0, 1.0])


# NTU joints that are one MediaPipe landmark.
_ONE_TO_ONE = (
    (sk.L_SHOULDER, MP_L_SHOULDER), (sk.L_ELBOW, MP_L_ELBOW), (sk.L_WRIST, MP_L_WRIST),
    (sk.L_KNEE, MP_L_KNEE), (sk.L_ANKLE, MP_L_ANKLE),
    (sk.R_SHOULDER, MP_R_SHOULDER), (sk.R_ELBOW, MP_R_ELBOW), (sk.R_WRIST, MP_R_WRIST),
    (sk.R_KNEE, MP_R_KNEE), (sk.R_ANKLE, MP_R_ANKLE),
)  # fmt: skip
# (hand, hand tip, thumb, wrist landmark, pinky, index, thumb) and (foot, ankle, foot index) per side.
_HANDS = (
    (sk.L_HAND, sk.L_HAND_TIP, sk.L_THUMB, MP_L_WRIST, MP_L_PINKY, MP_L_INDEX, MP_L_THUMB),
    (sk.R_HAND, sk.R_HAND_TIP, sk.R_THUMB, MP_R_WRIST, MP_R_PINKY, MP_R_INDEX, MP_R_THUMB),
)
_FEET = ((sk.L_FOOT, MP_L_ANKLE, MP_L_FOOT_INDEX), (sk.R_FOOT, MP_R_ANKLE, MP_R_FOOT_INDEX))


def _mapping_matrix() -> np.ndarray:
    w = np.zeros((sk.NUM_JOINTS, NUM_LANDMARKS))

    def mean(*landmarks: int) -> np.ndarray:
        row = np.zeros(NUM_LANDMARKS)
        row[list(landmarks)] = 1.0 / len(landmarks)
        return row

    def along(start: int, end: int, fraction: float) -> np.ndarray:
        return mean(start) + fraction * (mean(end) - mean(start))

    mid_hip = mean(MP_L_HIP, MP_R_HIP)
    mid_shoulder = mean(MP_L_SHOULDER, MP_R_SHOULDER)
    torso = mid_shoulder - mid_hip
    spine_shoulder = mid_shoulder + SPINE_SHOULDER_RAISE * torso
    spine_base = mid_hip + SPINE_BASE_RAISE * torso
    head = mean(MP_L_EAR, MP_R_EAR)

    w[sk.SPINE_BASE] = spine_base
    w[sk.SPINE_SHOULDER] = spine_shoulder
    w[sk.SPINE_MID] = spine_base + SPINE_MID_FRACTION * (spine_shoulder - spine_base)
    w[sk.HEAD] = head
    w[sk.NECK] = spine_shoulder + NECK_FRACTION * (head - spine_shoulder)
    for ntu_hip, mp_hip in ((sk.L_HIP, MP_L_HIP), (sk.R_HIP, MP_R_HIP)):
        w[ntu_hip] = mid_hip + HIP_RAISE * torso + HIP_WIDTH_SCALE * (mean(mp_hip) - mid_hip)
    for ntu_joint, landmark in _ONE_TO_ONE:
        w[ntu_joint] = mean(landmark)
    for hand, tip, thumb, mp_wrist, mp_pinky, mp_index, mp_thumb in _HANDS:
        w[hand] = mean(mp_pinky, mp_index)
        w[tip] = along(mp_wrist, mp_index, HAND_TIP_EXTENSION)
        w[thumb] = along(mp_wrist, mp_thumb, THUMB_EXTENSION)
    for foot, mp_ankle, mp_foot_index in _FEET:
        w[foot] = along(mp_ankle, mp_foot_index, FOOT_FRACTION)
    return w


# NTU joint j = sum_k MAPPING_MATRIX[j, k] * landmark k (rows sum to 1: translation-equivariant).
MAPPING_MATRIX: np.ndarray = _mapping_matrix()
MAPPING_MATRIX.setflags(write=False)
_SOURCES = (MAPPING_MATRIX != 0).astype(np.float64)


def mediapipe_to_ntu(
    world_or_image: np.ndarray,
    visibility: np.ndarray,
    *,
    min_visibility: float = 0.5,
    coords: Literal["world", "image"] = "world",
    aspect_ratio: float = 1.0,
) -> np.ndarray:
    """Map MediaPipe Pose landmarks to NTU-25 joints with y up.

    Args:
        world_or_image: (..., 33, 3) landmarks. "world": MediaPipe's world landmarks in
            metres. "image": normalised image landmarks (x, y in [0, 1] of width and height,
            z on the scale of x); the result is then in image heights, not metres.
        visibility: (..., 33) per-landmark visibility in [0, 1].
        min_visibility: landmarks below this (or non-finite) are missing.
        coords: which kind of landmarks `world_or_image` holds.
        aspect_ratio: image width / height (image landmarks only), to make x and y one unit.

    Returns:
        (..., 25, 3) float32 NTU joints: x to the camera's left, y up, z away from the
        camera; NaN where a source landmark is missing.

    Raises:
        ValueError: wrong shapes, unknown `coords` or a non-positive aspect ratio.
    """
    points = np.asarray(world_or_image, dtype=np.float64)
    vis = np.asarray(visibility, dtype=np.float64)
    if points.ndim < 2 or points.shape[-2:] != (NUM_LANDMARKS, 3):
        raise ValueError(f"expected (..., 33, 3) MediaPipe landmarks, got shape {points.shape}")
    if vis.shape != points.shape[:-1]:
        raise ValueError(f"visibility shape {vis.shape} does not match landmarks {points.shape[:-1]}")
    if coords == "image":
        if not (np.isfinite(aspect_ratio) and aspect_ratio > 0):
            raise ValueError(f"aspect_ratio must be positive, got {aspect_ratio}")
        points = points * np.array([aspect_ratio, 1.0, aspect_ratio])
    elif coords != "world":
        raise ValueError(f"coords must be 'world' or 'image', got {coords!r}")

    missing = ~((vis >= min_visibility) & np.isfinite(points).all(axis=-1))
    points = np.where(missing[..., None], 0.0, points) @ AXES
    joints = np.einsum("jk,...kc->...jc", MAPPING_MATRIX, points)
    joint_missing = np.einsum("jk,...k->...j", _SOURCES, missing.astype(np.float64)) > 0
    joints[joint_missing] = np.nan
    return joints.astype(np.float32)
