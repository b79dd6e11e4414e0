"""Export: ONNX files match torch numerically; a written bundle loads and classifies with onnxruntime."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from actzero.model.actions import Action
from actzero.model.bundle import Bundle, BundleError
from actzero.model.zeroshot import Calibration, TextProjection
from actzero.training.backbone import BackboneConfig, GraphBackbone
from actzero.training.export import SkeletonNetwork, write_bundle
from actzero.training.sadvae import SADVAE, SADVAEConfig

NAMES = ["standing still", "wave", "jump"]


@pytest.fixture(scope="module")
def tiny_bundle(tmp_path_factory) -> tuple[Path, GraphBackbone, SADVAE, dict]:
    torch.manual_seed(0)
    backbone = GraphBackbone(
        3, BackboneConfig(stem_channels=8, blocks=((8, 2), (16, 2)), feature_dim=16)
    ).eval()
    vae = SADVAE(16, 384, SADVAEConfig(dz_r=4, dz_v=2), skeleton_scale=0.5).eval()
    rng = np.random.default_rng(0)
    descriptions = {name: [f"a person does {name}", f"{name} slowly"] for name in NAMES}
    cache = {}
    for texts in descriptions.values():
        for t in texts:
            e = rng.normal(size=384).astype(np.float32)
            cache[t] = e / np.linalg.norm(e)
    manifest = {
        "layout": "ntu25",
        "window": 64,
        "fps": 30.0,
        "actions": [{"name": n, "descriptions": d, "source": "synthetic"} for n, d in descriptions.items()],
        "calibration": Calibration(threshold=0.0).to_dict(),
        "classifier": {"samples_per_class": 50, "steps": 20},
    }
    folder = tmp_path_factory.mktemp("bundle")
    diffs = write_bundle(folder, backbone, vae, manifest, cache)
    return folder, backbone, vae, diffs


def test_onnx_matches_torch(tiny_bundle) -> None:
    folder, backbone, vae, diffs = tiny_bundle
    print("max abs diff ONNX vs torch:", diffs)
    assert set(diffs) == {"skeleton.onnx", "text_vae.onnx"}
    assert max(diffs.values()) < 1e-4
    bundle = Bundle.load(folder)
    windows = np.random.default_rng(1).normal(0, 0.5, (4, 64, 25, 3)).astype(np.float32)
    logits, z_r = bundle.encode_windows(windows)
    with torch.no_grad():
        _, want_logits, want_z = SkeletonNetwork(backbone, vae)(torch.from_numpy(windows))
    np.testing.assert_allclose(logits, want_logits.numpy(), atol=1e-4)
    np.testing.assert_allclose(z_r, want_z.numpy(), atol=1e-4)


def test_bundle_round_trip_and_classifier(tiny_bundle) -> None:
    folder = tiny_bundle[0]
    bundle = Bundle.load(folder)
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["format"] == "actzero-bundle" and manifest["version"] == 1
    assert [a.name for a in bundle.actions] == NAMES
    assert bundle.window == 64 and bundle.fps == 30.0
    clf = bundle.fit_classifier(bundle.actions[1:])  # shipped descriptions: served from the cache
    probs = clf.probabilities(np.zeros((2, 64, 25, 3), np.float32))
    assert probs.shape == (2, 2)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-5)
    predictions = clf.decide(probs, top_k=2)
    assert predictions[0].label in {"wave", "jump"}


def test_bundle_errors_are_clear(tmp_path, tiny_bundle) -> None:
    with pytest.raises(BundleError, match="manifest.json"):
        Bundle.load(tmp_path)
    (tmp_path / "manifest.json").write_text(json.dumps({"format": "something-else"}))
    with pytest.raises(BundleError, match="format"):
        Bundle.load(tmp_path)
    bundle = Bundle.load(tiny_bundle[0])
    with pytest.raises(ValueError, match="unique"):
        bundle.fit_classifier([Action("wave", ("a",)), Action("Wave", ("b",))])
    with pytest.raises(ValueError, match="windows"):
        bundle.encode_windows(np.zeros((1, 32, 25, 3), np.float32))


def test_rewriting_a_bundle_replaces_it_whole_and_a_failed_export_keeps_the_old_one(
    tmp_path, tiny_bundle
) -> None:
    source, backbone, vae, _ = tiny_bundle
    manifest = json.loads((source / "manifest.json").read_text())
    cache = dict(zip(*_text_cache(source), strict=True))
    folder = tmp_path / "bundle"
    write_bundle(folder, backbone, vae, manifest, cache)
    (folder / "stale.txt").write_text("from an older export")
    write_bundle(folder, backbone, vae, {**manifest, "note": "second"}, cache)
    assert not (folder / "stale.txt").exists()
    assert json.loads((folder / "manifest.json").read_text())["note"] == "second"
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    with pytest.raises(TypeError):  # not JSON-serialisable: fails after the ONNX files are written
        write_bundle(folder, backbone, vae, {**manifest, "note": object()}, cache)
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bundle"]  # no partial folder left
    Bundle.load(folder)


def _text_cache(folder: Path) -> tuple[list[str], list[np.ndarray]]:
    with np.load(folder / "text_embeddings.npz") as data:
        return [str(t) for t in data["texts"]], list(data["embeddings"])


def test_a_text_space_bundle_scores_labels_by_the_projected_features(tmp_path, tiny_bundle) -> None:
    source, backbone, vae, _ = tiny_bundle
    manifest = json.loads((source / "manifest.json").read_text())
    manifest["classifier"] = {**manifest["classifier"], "latent_space": "text"}
    manifest["calibration"] = Calibration(
        threshold=0.0, latent_score="cosine", latent_temperature=0.1
    ).to_dict()
    cache = dict(zip(*_text_cache(source), strict=True))
    rng = np.random.default_rng(2)
    weight, bias = rng.normal(size=(16, 384)).astype(np.float32), rng.normal(size=384).astype(np.float32)
    folder = tmp_path / "text"
    write_bundle(folder, backbone, vae, manifest, cache, projection=TextProjection(weight, bias))
    bundle = Bundle.load(folder)
    windows = rng.normal(0, 0.5, (3, 64, 25, 3)).astype(np.float32)
    logits, latents = bundle.encode_windows(windows)
    with torch.no_grad():
        features, want_logits, _ = SkeletonNetwork(backbone, vae)(torch.from_numpy(windows))
    np.testing.assert_allclose(latents, features.numpy() @ weight + bias, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(logits, want_logits.numpy(), atol=1e-4)
    # a label whose only description embedding points where a window projects wins that window
    target = latents[0] - bundle.latent_centre()
    cache["the window's own action"] = target / np.linalg.norm(target)
    bundle.text_cache.update(cache)
    clf = bundle.fit_classifier([*bundle.actions[1:], Action("mine", ("the window's own action",))])
    assert clf.decide(clf.probabilities(windows[:1]))[0].label == "mine"
    (folder / "text_projection.npz").unlink()
    with pytest.raises(BundleError, match="text_projection.npz"):
        Bundle.load(folder)


def test_a_two_way_bundle_scores_the_mean_of_both_cosines(tmp_path, tiny_bundle) -> None:
    source, backbone, vae, _ = tiny_bundle
    manifest = json.loads((source / "manifest.json").read_text())
    manifest["classifier"] = {**manifest["classifier"], "latent_space": "two-way"}
    manifest["calibration"] = Calibration(
        threshold=0.0, latent_score="cosine", latent_temperature=0.1
    ).to_dict()
    cache = dict(zip(*_text_cache(source), strict=True))
    rng = np.random.default_rng(3)
    projection = TextProjection(
        *(rng.normal(size=shape).astype(np.float32) for shape in ((16, 384), (384,), (384, 16), (16,)))
    )
    folder = tmp_path / "two-way"
    write_bundle(folder, backbone, vae, manifest, cache, projection=projection)
    bundle = Bundle.load(folder)
    windows = rng.normal(0, 0.5, (3, 64, 25, 3)).astype(np.float32)
    _, latents = bundle.encode_windows(windows)
    with torch.no_grad():
        features = SkeletonNetwork(backbone, vae)(torch.from_numpy(windows))[0].numpy()
    np.testing.assert_allclose(latents[:, 384:], features, rtol=1e-4, atol=1e-4)
    texts = list(bundle.actions[0].descriptions)
    label, _ = bundle.label_latents(texts)
    emb = bundle.embed_texts(texts)
    np.testing.assert_allclose(label[:, :384], emb, atol=1e-6)
    np.testing.assert_allclose(
        label[:, 384:], emb @ projection.reverse_weight + projection.reverse_bias, atol=1e-4
    )
    clf = bundle.fit_classifier(bundle.actions[:3])
    centre = bundle.latent_centre()
    protos = [bundle.label_latents(list(a.descriptions))[0].mean(axis=0) - centre for a in bundle.actions[:3]]

    def cos(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return (a / np.linalg.norm(a, axis=1, keepdims=True)) @ (
            b / np.linalg.norm(b, axis=1, keepdims=True)
        ).T

    z, p = latents - centre, np.stack(protos)
    want = (cos(z[:, :384], p[:, :384]) + cos(z[:, 384:], p[:, 384:])) / 2
    np.testing.assert_allclose(clf.latent.logits(latents), want, atol=1e-5)
    with np.load(folder / "text_projection.npz") as data:  # a two-way bundle without its reverse map
        np.savez(folder / "text_projection.npz", weight=data["weight"], bias=data["bias"])
    with pytest.raises(BundleError, match="reverse_weight"):
        Bundle.load(folder)


def test_a_smoothing_backbone_exports_with_its_filter(tmp_path, tiny_bundle) -> None:
    source, _, vae, _ = tiny_bundle
    torch.manual_seed(1)
    config = BackboneConfig(stem_channels=8, blocks=((8, 2), (16, 2)), feature_dim=16, smooth_sigma=1.5)
    backbone = GraphBackbone(3, config).eval()
    manifest = json.loads((source / "manifest.json").read_text())
    diffs = write_bundle(
        tmp_path / "smooth", backbone, vae, manifest, dict(zip(*_text_cache(source), strict=True))
    )
    assert max(diffs.values()) < 1e-4
    windows = np.random.default_rng(2).normal(0, 0.5, (2, 64, 25, 3)).astype(np.float32)
    logits, _ = Bundle.load(tmp_path / "smooth").encode_windows(windows)
    with torch.no_grad():
        want = SkeletonNetwork(backbone, vae)(torch.from_numpy(windows))[1].numpy()
    np.testing.assert_allclose(logits, want, atol=1e-4)
