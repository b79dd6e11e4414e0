"""The shipped default bundle: loads with onnxruntime only, fits label sets, recognises by text."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from actzero.model.actions import Action
from actzero.model.bundle import DEFAULT_BUNDLE, Bundle
from actzero.model.canonical import canonicalise


@pytest.fixture(scope="module")
def bundle() -> Bundle:
    return Bundle.load()


def test_manifest_describes_the_bundle(bundle: Bundle) -> None:
    manifest = json.loads((DEFAULT_BUNDLE / "manifest.json").read_text())
    assert manifest["format"] == "actzero-bundle" and manifest["version"] == 1
    assert manifest["layout"] == "ntu25" and bundle.window == manifest["window"] == 64
    assert bundle.fps == 30.0
    assert len(bundle.actions) == len(manifest["actions"]) > 10
    assert all(a.descriptions for a in bundle.actions)
    assert "CC BY-NC 4.0" in manifest["licence"]
    assert max(manifest["export_max_abs_diff"].values()) < 1e-3


def test_default_bundle_runs_without_torch() -> None:
    code = (
        "import sys, numpy as np\n"
        "sys.modules['torch'] = None  # any torch import now fails\n"
        "from actzero.model.bundle import Bundle\n"
        "b = Bundle.load()\n"
        "clf = b.fit_classifier(b.actions[:5])\n"
        "p = clf.probabilities(np.zeros((2, b.window, 25, 3), np.float32))\n"
        "assert p.shape == (2, 5)\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_shipped_and_new_actions_share_one_label_set(bundle: Bundle) -> None:
    new = Action("juggle", ("Both hands toss and catch balls in a loop in front of the chest.",))
    assert new.name not in [a.name for a in bundle.actions]
    clf = bundle.fit_classifier([*bundle.actions[:4], new], seed=0)
    assert clf.labels[-1] == "juggle"
    assert list(clf.seen_index[:4]) == [0, 1, 2, 3] and clf.seen_index[-1] == -1
    rng = np.random.default_rng(0)
    windows = np.stack(
        [
            canonicalise(rng.normal(0, 0.3, (64, 25, 3)).astype(np.float32), bundle.canonical_frame)
            for _ in range(3)
        ]
    )
    probs = clf.probabilities(windows)
    assert probs.shape == (3, 5)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-5)
    predictions = clf.decide(probs, top_k=3)
    assert all(len(p.top_k) == 3 and p.top_k[0][1] == pytest.approx(p.score) for p in predictions)


def test_fit_is_deterministic_for_a_seed(bundle: Bundle) -> None:
    a = bundle.fit_classifier(bundle.actions[:6], seed=3)
    b = bundle.fit_classifier(bundle.actions[:6], seed=3)
    windows = np.random.default_rng(0).normal(0, 0.3, (4, bundle.window, 25, 3)).astype(np.float32)
    _, z = bundle.encode_windows(windows)
    np.testing.assert_array_equal(a.latent.logits(z), b.latent.logits(z))


def test_the_shipped_two_way_space_and_the_other_spaces_all_classify(bundle: Bundle, tmp_path) -> None:
    import shutil

    assert bundle.manifest["classifier"]["latent_space"] == "two-way"
    windows = np.random.default_rng(1).normal(0, 0.3, (3, bundle.window, 25, 3)).astype(np.float32)
    logits, latents = bundle.encode_windows(windows)
    assert latents.shape == (3, 384 + bundle.manifest["feature_dim"])  # text space, then features
    served = [bundle]
    for space, size in (("text", 384), ("sadvae", bundle.manifest["dz_r"])):
        copy = tmp_path / space
        shutil.copytree(DEFAULT_BUNDLE, copy)
        manifest = json.loads((copy / "manifest.json").read_text())
        manifest["classifier"]["latent_space"] = space  # the forward projection alone, or SA-DVAE's z_r
        (copy / "manifest.json").write_text(json.dumps(manifest))
        other = Bundle.load(copy)
        same_logits, other_latents = other.encode_windows(windows)
        assert other_latents.shape == (3, size)
        np.testing.assert_array_equal(same_logits, logits)
        served.append(other)
    np.testing.assert_array_equal(served[1].encode_windows(windows)[1], latents[:, :384])
    for one in served:
        clf = one.fit_classifier([Action("wave", ("a person waves a hand",)), Action("kick", ("kicks",))])
        np.testing.assert_allclose(clf.probabilities(windows).sum(axis=1), 1.0, atol=1e-5)


def test_the_canonical_frame_is_read_from_the_manifest_with_upright_by_default(
    bundle: Bundle, tmp_path
) -> None:
    import shutil

    from actzero.model.bundle import BundleError

    assert bundle.canonical_frame == bundle.manifest["canonical_frame"] == "limbs"  # the shipped one
    copy = tmp_path / "bundle"
    shutil.copytree(DEFAULT_BUNDLE, copy)
    manifest = json.loads((copy / "manifest.json").read_text())
    del manifest["canonical_frame"]  # a bundle from before the setting existed
    (copy / "manifest.json").write_text(json.dumps(manifest))
    assert Bundle.load(copy).canonical_frame == "upright"
    for frame in ("gravity", "upright"):
        (copy / "manifest.json").write_text(json.dumps({**manifest, "canonical_frame": frame}))
        assert Bundle.load(copy).canonical_frame == frame
    (copy / "manifest.json").write_text(json.dumps({**manifest, "canonical_frame": "sideways"}))
    with pytest.raises(
        BundleError, match="canonical_frame 'sideways' in manifest.json is not one of upright"
    ):
        Bundle.load(copy)
