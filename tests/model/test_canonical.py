import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from actzero.model import skeleton as sk
from actzero.model.canonical import (
    IMAGE_JOINTS,
    TEMPLATE_POSE,
    CanonicalisationError,
    canonicalise,
    fill_missing,
    normalise_bone_lengths,
)

# A standing NTU-25 body in metres (x = subject's right, y up, facing -z), roughly Kinect-like.
STANDING = np.array(
    [
        [0.0, 0.0, 0.0], [0.0, 0.27, 0.0], [0.0, 0.58, 0.0], [0.0, 0.72, 0.0],
        [-0.18, 0.5, 0.0], [-0.22, 0.25, 0.0], [-0.24, 0.02, 0.0], [-0.24, -0.05, 0.0],
        [0.18, 0.5, 0.0], [0.22, 0.25, 0.0], [0.24, 0.02, 0.0], [0.24, -0.05, 0.0],
        [-0.08, -0.05, 0.0], [-0.09, -0.45, 0.0], [-0.09, -0.85, 0.0], [-0.09, -0.9, -0.1],
        [0.08, -0.05, 0.0], [0.09, -0.45, 0.0], [0.09, -0.85, 0.0], [0.09, -0.9, -0.1],
        [0.0, 0.5, 0.0], [-0.24, -0.12, 0.0], [-0.22, -0.06, -0.03], [0.24, -0.12, 0.0],
        [0.22, -0.06, -0.03],
    ]
)  # fmt: skip


def _motion(frames: int, seed: int, jitter: float = 0.03) -> np.ndarray:
    rng = np.random.default_rng(seed)
    phase = np.linspace(0, 2 * np.pi, frames)[:, None, None]
    wobble = jitter * np.sin(phase + rng.uniform(0, 2 * np.pi, size=(1, sk.NUM_JOINTS, 3)))
    return STANDING[None] + wobble + rng.normal(scale=0.005, size=(frames, sk.NUM_JOINTS, 3))


def _rotation(quat: tuple[float, float, float, float]) -> np.ndarray:
    w, x, y, z = np.asarray(quat) / np.linalg.norm(quat)
    return np.array(
        [
            [1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)],
            [2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)],
            [2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)],
        ]
    )


quaternions = st.tuples(*[st.floats(-1, 1) for _ in range(4)]).filter(lambda q: np.linalg.norm(q) > 0.1)


@settings(max_examples=60, deadline=None)
@given(
    quat=quaternions,
    shift=st.tuples(*[st.floats(-100, 100) for _ in range(3)]),
    scale=st.floats(0.01, 100),
    frames=st.integers(1, 40),
    seed=st.integers(0, 1000),
    missing=st.floats(0, 0.3),
)
def test_invariant_to_rigid_motion_and_uniform_scale(quat, shift, scale, frames, seed, missing):
    seq = _motion(frames, seed)
    rng = np.random.default_rng(seed)
    holes = rng.random((frames, sk.NUM_JOINTS)) < missing
    holes[0, [sk.SPINE_BASE, sk.SPINE_SHOULDER, sk.L_SHOULDER, sk.R_SHOULDER]] = False
    seq[holes] = np.nan
    moved = scale * seq @ _rotation(quat).T + np.asarray(shift)
    a, b = canonicalise(seq), canonicalise(moved)
    assert np.isfinite(a).all() and a.dtype == np.float32 and a.shape == seq.shape
    np.testing.assert_allclose(a, b, atol=1e-4)


def test_float32_input_is_invariant_within_float32_precision():
    seq = _motion(64, 3).astype(np.float32)
    moved = (2.5 * seq @ _rotation((0.3, -0.5, 0.7, 0.2)).T + np.array([3.0, -1.0, 7.0])).astype(np.float32)
    np.testing.assert_allclose(canonicalise(seq), canonicalise(moved), atol=1e-4)


def test_canonical_frame_is_upright_facing_and_unit_size():
    seq = _motion(30, 1)
    tilted = seq @ _rotation((0.9, 0.3, 0.8, -0.2)).T * 170 + 12  # centimetres, tilted, shifted
    out = canonicalise(tilted)
    spine = (out[:, sk.SPINE_SHOULDER] - out[:, sk.SPINE_BASE]).mean(0)
    assert spine[1] > 0 and np.allclose(spine[[0, 2]], 0, atol=0.05 * spine[1])
    hips = (out[:, sk.R_HIP] - out[:, sk.L_HIP]).mean(0)
    assert hips[0] > 0 and abs(hips[2]) < 0.05
    assert np.allclose(out[:, sk.SPINE_BASE], 0, atol=1e-5)
    # bone lengths are the template's, so the body size is the template's (1) up to posture
    assert np.isclose(sk.body_size(out), 1.0, rtol=0.05)


def test_keeps_left_and_right_a_mirror_image_is_not_the_same_pose():
    seq = _motion(10, 2)
    seq[:, sk.L_WRIST] += (0.0, 0.5, 0.0)  # left hand raised
    out = canonicalise(seq)
    assert out[:, sk.L_WRIST, 1].mean() > out[:, sk.R_WRIST, 1].mean() + 0.3
    assert out[:, sk.L_WRIST, 0].mean() < 0 < out[:, sk.R_WRIST, 0].mean()


def test_fills_missing_joints_by_time_interpolation_then_nearest_then_parent():
    seq = _motion(5, 4)
    seq[1:4, sk.L_KNEE] = np.nan  # interior gap -> linear interpolation
    seq[:2, sk.R_ELBOW] = np.inf  # leading gap -> first valid frame
    seq[:, sk.L_THUMB] = np.nan  # never seen -> parent (l_hand)
    filled = fill_missing(seq)
    assert np.isfinite(filled).all()
    np.testing.assert_allclose(filled[2, sk.L_KNEE], (seq[0, sk.L_KNEE] + seq[4, sk.L_KNEE]) / 2)
    np.testing.assert_allclose(filled[0, sk.R_ELBOW], seq[2, sk.R_ELBOW])
    np.testing.assert_allclose(filled[:, sk.L_THUMB], filled[:, sk.L_HAND])
    assert np.isfinite(canonicalise(seq)).all()


@pytest.mark.parametrize(
    "bad, message",
    [
        (np.zeros((0, 25, 3)), "0 frames"),
        (np.zeros((5, 24, 3)), "shape"),
        (np.full((5, 25, 3), np.nan), "body size"),
        (np.full((5, 25, 3), np.inf), "body size"),
        (np.zeros((5, 25, 3)), "body size"),
        ("not an array", "numeric"),
    ],
)
def test_unusable_input_raises_a_clear_error(bad, message):
    with pytest.raises(CanonicalisationError, match=message):
        canonicalise(bad)


def test_degenerate_sides_raise_but_one_frame_works():
    seq = _motion(1, 5)
    assert canonicalise(seq).shape == (1, 25, 3)
    flat = seq.copy()
    for left, right in ((sk.L_HIP, sk.R_HIP), (sk.L_SHOULDER, sk.R_SHOULDER)):
        flat[:, right] = flat[:, left] + (flat[:, sk.SPINE_SHOULDER] - flat[:, sk.SPINE_BASE])
    with pytest.raises(CanonicalisationError, match="left/right"):
        canonicalise(flat)
    assert issubclass(CanonicalisationError, ValueError)


def test_input_is_not_modified():
    seq = _motion(8, 6)
    seq[2, sk.L_KNEE] = np.inf
    seq[:, sk.R_THUMB] = np.nan
    before = seq.copy()
    canonicalise(seq)
    fill_missing(seq)
    np.testing.assert_array_equal(seq, before)


def _bone_vectors(seq: np.ndarray) -> np.ndarray:
    children = [j for j in range(sk.NUM_JOINTS) if sk.PARENTS[j] >= 0]
    return seq[:, children] - seq[:, [sk.PARENTS[j] for j in children]]


def test_normalise_bone_lengths_keeps_directions_and_root_and_sets_template_lengths():
    seq = canonicalise(_motion(12, 7) * np.array([1.3, 0.8, 1.0]))  # odd proportions
    seq[:, sk.SPINE_BASE] += np.linspace(0, 1, 12)[:, None] * np.array([0.5, 0.0, 0.2])  # walks
    out = normalise_bone_lengths(seq)
    template = np.linalg.norm(_bone_vectors(TEMPLATE_POSE[None]), axis=-1)
    np.testing.assert_allclose(
        np.linalg.norm(_bone_vectors(out), axis=-1), np.broadcast_to(template, (12, 24)), rtol=1e-4
    )
    a, b = _bone_vectors(seq), _bone_vectors(out)
    cosine = (a * b).sum(-1) / np.linalg.norm(a, axis=-1) / np.linalg.norm(b, axis=-1)
    assert cosine.min() > 1 - 1e-5
    np.testing.assert_allclose(out[:, sk.SPINE_BASE], seq[:, sk.SPINE_BASE], atol=1e-6)
    assert np.isclose(sk.body_size(TEMPLATE_POSE[None]), 1.0)
    np.testing.assert_allclose(normalise_bone_lengths(TEMPLATE_POSE[None] * 1.7)[0], TEMPLATE_POSE, atol=1e-5)


def test_normalise_bone_lengths_gives_collapsed_joints_the_template_direction():
    seq = _motion(4, 8)
    seq[:, [sk.L_KNEE, sk.L_ANKLE, sk.L_FOOT]] = np.nan  # leg out of view: filled onto the hip
    out = normalise_bone_lengths(canonicalise(seq))
    shin = out[:, sk.L_ANKLE] - out[:, sk.L_KNEE]
    expected = TEMPLATE_POSE[sk.L_ANKLE] - TEMPLATE_POSE[sk.L_KNEE]
    np.testing.assert_allclose(shin, np.broadcast_to(expected, shin.shape), atol=1e-5)
    assert (out[:, sk.L_FOOT, 1] < out[:, sk.L_HIP, 1] - 0.5).all()  # the leg hangs down


def test_the_path_travelled_is_removed_and_the_pose_kept():
    """Camera skeletons are hip-centred per frame: a walk and the same steps on a treadmill match."""
    in_place = _motion(30, 3)
    walking = in_place + np.linspace(0, 2.5, 30)[:, None, None] * np.array([1.0, 0.0, 0.4])
    np.testing.assert_allclose(canonicalise(walking), canonicalise(in_place), atol=1e-4)
    out = canonicalise(walking)
    assert np.abs(out[:, sk.SPINE_BASE]).max() < 1e-6
    # the pose relative to the root is untouched by the translation removal
    assert np.linalg.norm(out[:, sk.HEAD] - out[:, sk.SPINE_BASE], axis=-1).min() > 0.3


# ----- the gravity-aware frame --------------------------------------------------------------


def _about_y(degrees: float) -> np.ndarray:
    a = np.radians(degrees)
    return np.array([[np.cos(a), 0, np.sin(a)], [0, 1, 0], [-np.sin(a), 0, np.cos(a)]])


def _about_x(degrees: float) -> np.ndarray:
    a = np.radians(degrees)
    return np.array([[1, 0, 0], [0, np.cos(a), -np.sin(a)], [0, np.sin(a), np.cos(a)]])


def _about_z(degrees: float) -> np.ndarray:
    a = np.radians(degrees)
    return np.array([[np.cos(a), -np.sin(a), 0], [np.sin(a), np.cos(a), 0], [0, 0, 1]])


def _spine(out: np.ndarray) -> np.ndarray:
    spine = (out[:, sk.SPINE_SHOULDER] - out[:, sk.SPINE_BASE]).mean(0)
    return spine / np.linalg.norm(spine)


@pytest.mark.parametrize(
    ("pose", "name"),
    [(_about_x(-90), "on the back"), (_about_x(90), "face down"), (_about_z(90), "on the side")],
)
@pytest.mark.parametrize("frame", ["gravity", "limbs"])
def test_gravity_frame_keeps_a_lying_body_horizontal(pose, name, frame):
    lying = _motion(20, 9) @ pose.T @ _about_y(37).T + np.array([0.4, 0.1, 2.0])
    gravity = _spine(canonicalise(lying, frame))
    assert abs(gravity[1]) < 0.1, f"{name}: spine {gravity} is not horizontal"
    assert _spine(canonicalise(lying, "upright"))[1] > 0.99  # the upright frame stands it up
    assert np.isfinite(canonicalise(lying, frame)).all()


def test_gravity_frame_of_a_standing_body_matches_the_upright_frame():
    seq = _motion(30, 4) @ _about_y(-120).T * 1.8 + 5.0
    np.testing.assert_allclose(canonicalise(seq, "gravity"), canonicalise(seq, "upright"), atol=0.05)


@settings(max_examples=40, deadline=None)
@given(
    yaw=st.floats(-180, 180),
    shift=st.tuples(*[st.floats(-100, 100) for _ in range(3)]),
    scale=st.floats(0.01, 100),
    lean=st.sampled_from([0.0, 30.0, 80.0, 90.0, 135.0]),
    seed=st.integers(0, 1000),
    missing=st.floats(0, 0.3),
    frame=st.sampled_from(["gravity", "limbs"]),
)
def test_gravity_frame_is_invariant_to_heading_translation_and_scale(
    yaw, shift, scale, lean, seed, missing, frame
):
    seq = _motion(16, seed) @ _about_x(lean).T @ _about_z(lean / 3).T  # leaning up to lying
    holes = np.random.default_rng(seed).random((16, sk.NUM_JOINTS)) < missing
    holes[0, [sk.SPINE_BASE, sk.SPINE_SHOULDER, sk.L_SHOULDER, sk.R_SHOULDER]] = False
    seq[holes] = np.nan
    if frame == "limbs":  # the limbs frame's body is set by the hips and shoulders only
        holes[0, [sk.L_HIP, sk.R_HIP]] = False
        seq[0, [sk.L_HIP, sk.R_HIP]] = (
            _motion(16, seed)[0, [sk.L_HIP, sk.R_HIP]] @ _about_x(lean).T @ _about_z(lean / 3).T
        )
    moved = scale * seq @ _about_y(yaw).T + np.asarray(shift)
    np.testing.assert_allclose(canonicalise(seq, frame), canonicalise(moved, frame), atol=1e-4)


@pytest.mark.parametrize("tilt", [_about_x(15), _about_x(-18), _about_z(15), _about_x(12) @ _about_z(-12)])
def test_a_camera_tilt_changes_the_gravity_window_only_by_that_tilt(tilt):
    canonical = canonicalise(_motion(30, 11) @ _about_y(70).T, "gravity")
    tilted = canonicalise(canonical @ tilt.T, "gravity")
    np.testing.assert_allclose(tilted, canonical @ tilt.T, atol=0.02)
    angle = np.degrees(np.arccos(np.clip(_spine(tilted) @ _spine(canonical), -1, 1)))
    expected = np.degrees(np.arccos(np.clip(_spine(canonical @ tilt.T) @ _spine(canonical), -1, 1)))
    assert angle == pytest.approx(expected, abs=0.5) and angle > 10


def test_limbs_frame_reads_only_the_limb_joints_and_rebuilds_the_torso():
    seq = _motion(20, 5) @ _about_y(40).T
    other = seq.copy()
    rng = np.random.default_rng(1)
    rest = [j for j in range(sk.NUM_JOINTS) if j not in IMAGE_JOINTS]  # spine, neck, hands, tips, feet
    other[:, rest] += rng.normal(scale=0.1, size=(20, len(rest), 3))
    np.testing.assert_allclose(canonicalise(other, "limbs"), canonicalise(seq, "limbs"), atol=1e-5)
    assert np.abs(canonicalise(other, "gravity") - canonicalise(seq, "gravity")).max() > 0.05
    out = canonicalise(seq, "limbs")
    hips = 0.5 * (out[:, sk.L_HIP] + out[:, sk.R_HIP])
    np.testing.assert_allclose(out[:, sk.SPINE_BASE], hips, atol=1e-5)  # the root is the hips' midpoint
    limbs = list(IMAGE_JOINTS)  # the same body as the gravity frame sees, up to the rebuilt torso
    np.testing.assert_allclose(out[:, limbs], canonicalise(seq, "gravity")[:, limbs], atol=0.15)


def test_unknown_canonical_frame_is_a_value_error():
    with pytest.raises(ValueError, match="unknown canonical frame 'sideways'"):
        canonicalise(_motion(3, 1), "sideways")


# ----- the image frame (2D route) ----------------------------------------------------------


def test_image_frame_is_flat_root_centred_and_ignores_depth_and_non_core_joints():
    seq = _motion(20, 3) * 1.7 + np.array([0.3, -0.2, 2.5])
    out = canonicalise(seq, "image")
    assert out.dtype == np.float32 and out.shape == seq.shape
    assert np.all(out[..., 2] == 0.0)
    hips = 0.5 * (out[:, sk.L_HIP] + out[:, sk.R_HIP])
    np.testing.assert_allclose(out[:, sk.SPINE_BASE], hips, atol=1e-6)
    np.testing.assert_allclose(out[:, sk.SPINE_BASE], 0.0, atol=1e-6)
    # Depth, hands, feet and the spine joints of the input say nothing in the image frame.
    changed = seq.copy()
    changed[..., 2] += np.random.default_rng(0).normal(size=changed.shape[:2])
    changed[:, [sk.L_HAND, sk.R_FOOT, sk.NECK, sk.SPINE_MID, sk.SPINE_BASE]] += 0.3
    np.testing.assert_allclose(canonicalise(changed, "image"), out, atol=1e-6)
    np.testing.assert_allclose(out[:, sk.L_HAND], out[:, sk.L_WRIST])  # hands sit on the wrists


@settings(max_examples=40, deadline=None)
@given(
    roll=st.floats(-180, 180),
    shift=st.tuples(*[st.floats(-100, 100) for _ in range(3)]),
    scale=st.floats(0.01, 100),
    seed=st.integers(0, 1000),
)
def test_image_frame_is_invariant_to_image_translation_and_scale_but_not_to_rotation(
    roll, shift, scale, seed
):
    seq = _motion(12, seed) @ _about_y(50).T
    moved = scale * seq + np.asarray(shift)
    np.testing.assert_allclose(canonicalise(moved, "image"), canonicalise(seq, "image"), atol=1e-4)
    if abs(roll) > 20:  # a turned image is a different picture: gravity stays in the 2D route
        turned = canonicalise(seq @ _about_z(roll).T, "image")
        assert np.abs(turned - canonicalise(seq, "image")).max() > 0.1


def test_image_frame_keeps_a_lying_body_horizontal_and_foreshortening():
    lying = canonicalise(_motion(10, 2) @ _about_z(90).T, "image")
    spine = (lying[:, sk.SPINE_SHOULDER] - lying[:, sk.SPINE_BASE]).mean(0)
    assert abs(spine[1]) < 0.1 * abs(spine[0])
    front = canonicalise(_motion(10, 2), "image")
    side = canonicalise(_motion(10, 2) @ _about_y(90).T, "image")
    width = lambda out: np.abs(out[:, sk.R_SHOULDER, 0] - out[:, sk.L_SHOULDER, 0]).mean()  # noqa: E731
    assert width(side) < 0.2 * width(front)  # seen from the side, the shoulders overlap


def test_image_frame_refuses_a_body_without_hips_or_legs():
    seq = _motion(5, 1)
    seq[:, sk.L_HIP] = np.nan
    with pytest.raises(CanonicalisationError, match="hips"):
        canonicalise(seq, "image")
