import numpy as np

from actzero.model import skeleton as sk


def test_parents_form_a_tree_rooted_at_spine_base():
    assert sk.PARENTS[sk.SPINE_BASE] == -1
    for j in range(sk.NUM_JOINTS):
        seen, k = set(), j
        while k != -1:
            assert k not in seen, f"cycle through joint {k}"
            seen.add(k)
            k = sk.PARENTS[k]


def test_mirror_permutation_is_an_involution_that_swaps_sides():
    perm = sk.MIRROR_PERM
    assert np.array_equal(perm[perm], np.arange(sk.NUM_JOINTS))
    for j, name in enumerate(sk.JOINT_NAMES):
        other = sk.JOINT_NAMES[perm[j]]
        if name.startswith("l_"):
            assert other == "r_" + name[2:]


def test_body_size_ignores_missing_frames_and_scales_linearly():
    rng = np.random.default_rng(0)
    seq = rng.normal(size=(10, 25, 3)).astype(np.float32)
    seq[3, sk.SPINE_BASE] = np.nan
    size = sk.body_size(seq)
    assert np.isfinite(size)
    assert np.isclose(sk.body_size(seq * 2.5), 2.5 * size, rtol=1e-5)
    assert np.isnan(sk.body_size(np.full((4, 25, 3), np.nan)))
