from pathlib import Path

import numpy as np
import pytest

from actzero.model.plausibility import ImplausibleSkeletonError, check_plausible_body
from actzero.training.synthetic import SYNTHETIC_ACTIONS, generate_clips

BANDAI_1 = (
    Path(__file__).resolve().parents[2].parent
    / "shared"
    / "data"
    / "bandai-namco"
    / "Bandai-Namco-Research-Motiondataset-1.tar.xz"
)


@pytest.mark.parametrize("kind", ["uniform", "gaussian", "one noise frame held"])
def test_random_joints_are_refused(kind):
    rng = np.random.default_rng(7)
    joints = {
        "uniform": lambda: rng.uniform(-1, 1, (60, 25, 3)),
        "gaussian": lambda: rng.normal(0, 0.5, (60, 25, 3)),
        "one noise frame held": lambda: np.repeat(rng.normal(0, 0.5, (1, 25, 3)), 60, axis=0),
    }[kind]().astype(np.float32)
    with pytest.raises(ImplausibleSkeletonError, match="not a plausible body"):
        check_plausible_body(joints)


def test_every_synthetic_action_is_a_plausible_body():
    for clip in generate_clips(list(SYNTHETIC_ACTIONS), clips_per_class=1, seed=11):
        check_plausible_body(clip.joints)
        check_plausible_body(clip.joints[:1])  # one frame: only left/right can be judged
        missing = clip.joints.copy()
        missing[:, 12:20] = np.nan  # legs not seen
        check_plausible_body(missing)


def test_a_captured_body_is_plausible(tmp_path, archive_members):
    from actzero.model.readers import read_skeleton_file

    name = "Bandai-Namco-Research-Motiondataset-1/data/dataset-1_bow_normal_001.bvh"
    (path,) = archive_members(BANDAI_1, [name], tmp_path)
    [(_, joints, _)] = read_skeleton_file(path)
    check_plausible_body(joints)


def test_what_cannot_be_judged_is_left_to_other_checks():
    check_plausible_body(np.full((5, 25, 3), np.nan, np.float32))
    check_plausible_body(np.zeros((5, 17, 3), np.float32))


def test_the_api_refuses_noise_instead_of_naming_an_action():
    from actzero.api import Recognizer

    noise = np.random.default_rng(0).uniform(-1, 1, (60, 25, 3)).astype(np.float32)
    with pytest.raises(ImplausibleSkeletonError):
        Recognizer().classify_skeleton(noise)
