from pathlib import Path

import numpy as np
import pytest

from actzero.model import mapping as mp
from actzero.model import skeleton as sk
from actzero.model.canonical import canonicalise
from actzero.model.mapping import mediapipe_to_ntu

VIDEO = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "video" / "sports2d-demo.mp4"


def _mediapipe_pose() -> np.ndarray:
    """A person facing the camera in MediaPipe world axes (x image-right, y down, z away), metres.

    The subject's left side is on the image's right (positive x), the nose nearer the camera.
    """
    p = np.zeros((33, 3))
    p[mp.MP_NOSE] = (0.0, -0.62, -0.1)
    p[1:7] = (0.0, -0.65, -0.08)
    p[mp.MP_L_EAR], p[mp.MP_R_EAR] = (0.07, -0.62, 0.0), (-0.07, -0.62, 0.0)
    p[9:11] = (0.0, -0.58, -0.09)
    for side in (1, -1):
        left = side == 1
        p[mp.MP_L_SHOULDER if left else mp.MP_R_SHOULDER] = (side * 0.18, -0.48, 0.0)
        p[mp.MP_L_ELBOW if left else mp.MP_R_ELBOW] = (side * 0.22, -0.22, 0.02)
        p[mp.MP_L_WRIST if left else mp.MP_R_WRIST] = (side * 0.24, 0.02, -0.02)
        p[mp.MP_L_PINKY if left else mp.MP_R_PINKY] = (side * 0.25, 0.1, -0.02)
        p[mp.MP_L_INDEX if left else mp.MP_R_INDEX] = (side * 0.23, 0.11, -0.04)
        p[mp.MP_L_THUMB if left else mp.MP_R_THUMB] = (side * 0.21, 0.07, -0.05)
        p[mp.MP_L_HIP if left else mp.MP_R_HIP] = (side * 0.1, 0.0, 0.0)
        p[mp.MP_L_KNEE if left else mp.MP_R_KNEE] = (side * 0.1, 0.42, -0.01)
        p[mp.MP_L_ANKLE if left else mp.MP_R_ANKLE] = (side * 0.1, 0.82, 0.03)
        p[mp.MP_L_HEEL if left else mp.MP_R_HEEL] = (side * 0.1, 0.87, 0.07)
        p[mp.MP_L_FOOT_INDEX if left else mp.MP_R_FOOT_INDEX] = (side * 0.12, 0.9, -0.1)
    return p


def _rotation(axis: np.ndarray, angle: float) -> np.ndarray:
    axis = axis / np.linalg.norm(axis)
    k = np.array([[0, -axis[2], axis[1]], [axis[2], 0, -axis[0]], [-axis[1], axis[0], 0]])
    return np.eye(3) + np.sin(angle) * k + (1 - np.cos(angle)) * k @ k


def test_world_landmarks_become_y_up_with_left_and_right_kept():
    ntu = mediapipe_to_ntu(_mediapipe_pose(), np.ones(33))
    assert ntu.shape == (25, 3) and ntu.dtype == np.float32 and np.isfinite(ntu).all()
    assert ntu[sk.HEAD, 1] > ntu[sk.NECK, 1] > ntu[sk.SPINE_SHOULDER, 1] > ntu[sk.SPINE_MID, 1]
    assert ntu[sk.SPINE_MID, 1] > ntu[sk.SPINE_BASE, 1] > ntu[sk.L_KNEE, 1] > ntu[sk.L_FOOT, 1]
    # Facing the camera (nose towards -z), the subject's right is at +x as in NTU camera space.
    assert ntu[sk.R_SHOULDER, 0] > 0 > ntu[sk.L_SHOULDER, 0]
    assert ntu[sk.R_HAND, 0] > 0 > ntu[sk.L_HAND, 0]
    # Chirality: for a real (unmirrored) body, (left -> right) x up points backwards, away from the nose.
    right = ntu[sk.R_SHOULDER] - ntu[sk.L_SHOULDER]
    up = ntu[sk.SPINE_SHOULDER] - ntu[sk.SPINE_BASE]
    nose = mp.AXES @ _mediapipe_pose()[mp.MP_NOSE]
    assert np.dot(np.cross(right, up), nose - ntu[sk.HEAD]) < 0


def test_axes_are_a_proper_rotation_and_rows_are_affine():
    assert np.isclose(np.linalg.det(mp.AXES), 1.0)
    assert np.allclose(mp.MAPPING_MATRIX.sum(axis=1), 1.0)


def test_layout_constants_place_hips_pelvis_neck_hands_and_feet():
    pose = _mediapipe_pose()
    ntu = mediapipe_to_ntu(pose, np.ones(33)).astype(np.float64)
    up = np.array([0.0, 1.0, 0.0])
    mid_hip = mp.AXES @ pose[[mp.MP_L_HIP, mp.MP_R_HIP]].mean(0)
    mid_sh = mp.AXES @ pose[[mp.MP_L_SHOULDER, mp.MP_R_SHOULDER]].mean(0)
    torso = mid_sh - mid_hip
    mp_width = np.linalg.norm(pose[mp.MP_L_HIP] - pose[mp.MP_R_HIP])
    assert np.isclose(np.linalg.norm(ntu[sk.L_HIP] - ntu[sk.R_HIP]), mp.HIP_WIDTH_SCALE * mp_width)
    np.testing.assert_allclose((ntu[sk.L_HIP] + ntu[sk.R_HIP]) / 2, mid_hip + mp.HIP_RAISE * torso, atol=1e-6)
    np.testing.assert_allclose(ntu[sk.SPINE_BASE], mid_hip + mp.SPINE_BASE_RAISE * torso, atol=1e-6)
    assert ntu[sk.SPINE_BASE] @ up > mid_hip @ up  # the pelvis sits above the hip joints
    head, ss = ntu[sk.HEAD], ntu[sk.SPINE_SHOULDER]
    np.testing.assert_allclose(ntu[sk.NECK], ss + mp.NECK_FRACTION * (head - ss), atol=1e-6)
    wrist, index = ntu[sk.L_WRIST], mp.AXES @ pose[mp.MP_L_INDEX]
    np.testing.assert_allclose(ntu[sk.L_HAND_TIP], wrist + mp.HAND_TIP_EXTENSION * (index - wrist), atol=1e-6)
    assert np.linalg.norm(ntu[sk.L_HAND_TIP] - wrist) > np.linalg.norm(ntu[sk.L_HAND] - wrist)
    ankle, toe = ntu[sk.R_ANKLE], mp.AXES @ pose[mp.MP_R_FOOT_INDEX]
    np.testing.assert_allclose(ntu[sk.R_FOOT], ankle + mp.FOOT_FRACTION * (toe - ankle), atol=1e-6)


def test_rotating_the_input_rotates_the_output_and_canonical_form_is_unchanged():
    pose = _mediapipe_pose()
    rot = _rotation(np.array([0.3, 1.0, -0.2]), 1.1)
    moved = pose @ rot.T + np.array([0.5, -0.2, 2.0])
    a, b = mediapipe_to_ntu(pose, np.ones(33)), mediapipe_to_ntu(moved, np.ones(33))
    rot_ntu = mp.AXES @ rot @ mp.AXES.T
    np.testing.assert_allclose(b - b[sk.SPINE_BASE], (a - a[sk.SPINE_BASE]) @ rot_ntu.T, atol=1e-5)
    np.testing.assert_allclose(canonicalise(a[None]), canonicalise(b[None]), atol=1e-4)


def test_low_visibility_makes_exactly_the_derived_joints_nan():
    vis = np.ones(33)
    vis[mp.MP_L_PINKY] = 0.2  # l_hand is the mean of the pinky and index knuckles
    vis[mp.MP_R_HIP] = 0.49  # spine_base, spine_mid, r_hip (and spine_shoulder) depend on it
    pose = _mediapipe_pose()
    pose[mp.MP_R_EAR] = np.nan  # non-finite counts as missing too: head and neck
    ntu = mediapipe_to_ntu(pose, vis)
    missing = {sk.JOINT_NAMES[j] for j in np.flatnonzero(np.isnan(ntu).any(axis=-1))}
    expected = {"l_hand", "spine_base", "spine_mid", "r_hip", "head", "neck"}
    if mp.SPINE_SHOULDER_RAISE != 0.0:  # then spine_shoulder is placed along hips -> shoulders
        expected.add("spine_shoulder")
    if mp.HIP_WIDTH_SCALE != 1.0:  # then each hip is made from both hip landmarks
        expected.add("l_hip")
    assert missing == expected
    assert np.isnan(ntu[sorted(sk.JOINT_NAMES.index(n) for n in missing)]).all()
    assert np.isfinite(mediapipe_to_ntu(pose, vis, min_visibility=0.1)[sk.L_HAND]).all()


def test_image_landmarks_use_the_aspect_ratio_and_y_up():
    # Shoulders 0.2 wide (of the width) and hips 0.25 below them (of the height) in a 2:1 image.
    pose = np.full((33, 3), 0.5)
    pose[:, 2] = 0.0
    pose[mp.MP_L_SHOULDER, :2], pose[mp.MP_R_SHOULDER, :2] = (0.6, 0.4), (0.4, 0.4)
    pose[mp.MP_L_HIP, :2], pose[mp.MP_R_HIP, :2] = (0.55, 0.65), (0.45, 0.65)
    ntu = mediapipe_to_ntu(pose, np.ones(33), coords="image", aspect_ratio=2.0)
    assert np.isclose(np.linalg.norm(ntu[sk.R_SHOULDER] - ntu[sk.L_SHOULDER]), 0.4, rtol=1e-5)
    mid_hip_y = -0.65
    assert np.isclose(ntu[sk.SPINE_SHOULDER, 1] - mid_hip_y, 0.25 * (1 + mp.SPINE_SHOULDER_RAISE), rtol=1e-5)
    assert ntu[sk.R_SHOULDER, 0] > ntu[sk.L_SHOULDER, 0]


def test_batches_map_elementwise():
    rng = np.random.default_rng(0)
    batch = _mediapipe_pose() + rng.normal(scale=0.02, size=(2, 4, 33, 3))
    vis = rng.uniform(0.3, 1.0, size=(2, 4, 33))
    out = mediapipe_to_ntu(batch, vis)
    assert out.shape == (2, 4, 25, 3)
    np.testing.assert_array_equal(out[1, 2], mediapipe_to_ntu(batch[1, 2], vis[1, 2]))


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"world_or_image": np.zeros((25, 3)), "visibility": np.ones(25)}, "33, 3"),
        ({"world_or_image": np.zeros((33, 3)), "visibility": np.ones(32)}, "visibility"),
        ({"world_or_image": np.zeros((33, 3)), "visibility": np.ones(33), "coords": "pixels"}, "coords"),
        (
            {
                "world_or_image": np.zeros((33, 3)),
                "visibility": np.ones(33),
                "coords": "image",
                "aspect_ratio": 0,
            },
            "aspect",
        ),
    ],
)
def test_bad_input_raises_value_error(kwargs, message):
    with pytest.raises(ValueError, match=message):
        mediapipe_to_ntu(**kwargs)


@pytest.mark.skipif(not VIDEO.is_file(), reason="needs ../shared/data/video")
def test_real_mediapipe_world_landmarks_map_to_an_upright_body():
    cv2 = pytest.importorskip("cv2")
    from actzero.stream.pose import PoseEstimator, PoseOptions

    capture = cv2.VideoCapture(str(VIDEO))
    capture.set(cv2.CAP_PROP_POS_FRAMES, 100)
    ok, frame = capture.read()
    capture.release()
    assert ok
    with PoseEstimator.create(PoseOptions(num_poses=2)) as pose:
        found = pose.process(frame, 0)
    image, world, visibility = found.image, found.world, found.visibility
    assert world.shape[0] >= 1
    ntu = mediapipe_to_ntu(world, visibility)
    for person in ntu:
        assert person[sk.HEAD, 1] > person[sk.SPINE_SHOULDER, 1] > person[sk.SPINE_BASE, 1]
        shoulders = np.linalg.norm(person[sk.R_SHOULDER] - person[sk.L_SHOULDER])
        assert 0.15 < shoulders < 0.6  # metres
        assert np.isfinite(canonicalise(person[None])).all()
    # The image landmarks give the same up direction once the aspect ratio is applied.
    ntu_image = mediapipe_to_ntu(
        image, visibility, coords="image", aspect_ratio=frame.shape[1] / frame.shape[0]
    )
    assert (ntu_image[:, sk.HEAD, 1] > ntu_image[:, sk.SPINE_BASE, 1]).all()
