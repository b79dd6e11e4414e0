"""Smoke tests of the study scripts in studies/ (tiny inputs; the studies themselves are never run here).

Everything they write goes to pytest's tmp_path, never into the repository.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

STUDIES = Path(__file__).resolve().parents[1] / "studies"
sys.path.insert(0, str(STUDIES))


@pytest.mark.slow  # real MediaPipe on 60 half-size frames
def test_camera_gate_reports_every_tracked_window(sample_cut: Path, monkeypatch, capsys) -> None:
    import camera_gate

    script = [sys.executable, str(STUDIES / "camera_gate.py"), "--video", str(sample_cut)]
    done = subprocess.run(
        [*script, "--add", "juggle: Both hands toss and catch balls in front of the chest."],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    rows = [line for line in done.stdout.splitlines() if line.startswith("| #")]
    windows = int(re.search(r"- (\d+) windows; gate threshold", done.stdout).group(1))
    assert rows and sum(int(row.split("|")[2]) for row in rows) == windows  # every window has a track
    assert "| top seen probability |" in done.stdout and "| gate g" in done.stdout
    monkeypatch.setattr(sys, "argv", [*script[1:], "--add", "no description"])  # its own argument parser,
    with pytest.raises(SystemExit) as refused:  # in this process: no second start-up
        camera_gate.main()
    assert refused.value.code == 2 and 'needs "name: description"' in capsys.readouterr().err


def test_track_quality_counts_switches_and_spurious_ids() -> None:
    import track_quality

    # two people walking apart; a ghost far from both in frame 2
    centres = [np.array([[0.2 + 0.01 * f, 0.5], [1.0 - 0.01 * f, 0.5]]) for f in range(6)]
    centres[2] = np.vstack([centres[2], [[0.6, 0.9]]])
    people = {"a": [(0, 0.2, 0.5), (5, 0.25, 0.5)], "b": [(0, 1.0, 0.5), (5, 0.95, 0.5)]}
    labels = track_quality.label_people(centres, people)
    assert labels[2] == {"a": 0, "b": 1}
    ids = [np.array([0, 1]), np.array([0, 1]), np.array([0, -1, 2]), np.array([0, 3])]
    ids += [np.array([0, 1]), np.array([0, 1])]  # b: 1, (none), 3, 1 -> two switches
    summary, per_person, per_id = track_quality.quality_tables(ids, labels, 30.0, "t")
    assert summary.values[0] == (4, 4, 1, 2, 1, 2)
    assert per_person.values == [("a", 6, 6, "0", 0), ("b", 6, 5, "1 3", 2)]
    assert per_id.column("detections of")[2] == "nobody 1"


def test_camera_error_finds_a_squeezed_depth_and_no_error_on_rigid_motion() -> None:
    import camera_error

    from actzero.model.canonical import TEMPLATE_POSE

    angles = np.linspace(0, np.pi, 60)  # a rigid body turning about the vertical, arms moving
    clip = np.repeat(TEMPLATE_POSE[None].astype(np.float64), len(angles), axis=0)
    clip[:, 6:8, 2] -= 0.3 * np.sin(angles)[:, None]  # a forearm swinging in depth (bone lengths change)
    clip[:, 6:8] = clip[:, 5:6] + (clip[:, 6:8] - clip[:, 5:6]) / np.linalg.norm(
        clip[:, 6:7] - clip[:, 5:6], axis=-1, keepdims=True
    ) * np.linalg.norm(TEMPLATE_POSE[6] - TEMPLATE_POSE[5])  # ... restored: lengths constant again
    c, s = np.cos(angles)[:, None], np.sin(angles)[:, None]
    turned = clip.copy()
    turned[..., 0], turned[..., 2] = c * clip[..., 0] + s * clip[..., 2], -s * clip[..., 0] + c * clip[..., 2]
    clean = camera_error.clip_error(turned)
    assert clean["bone_cv"] < 1e-6 and clean["depth_scale"] == pytest.approx(1.0, abs=0.05)
    squeezed = turned * np.array([1.0, 1.0, 0.5])  # an estimator that halves depth
    assert camera_error.clip_error(squeezed)["depth_scale"] == pytest.approx(2.0, abs=0.1)


def test_sample_video_labels_overlap() -> None:
    import sample_video_labels

    assert sample_video_labels.overlap((0.0, 1.0), (0.5, 3.0)) == 0.5
    assert sample_video_labels.overlap((0.0, 1.0), (2.0, 3.0)) == 0.0


def test_penn_bundles_scores_the_shipped_bundle_on_real_clips(repacked_archive, tmp_path: Path) -> None:
    shared_data = Path(__file__).resolve().parents[1].parent / "shared" / "data"
    penn = shared_data / "video" / "penn-action-2d" / "PennAction-labels.tar.xz"
    members = ("PennAction/labels/1040.mat", "PennAction/labels/1360.mat")  # jumping jacks, push-up
    shared = repacked_archive(penn, members, tmp_path / "penn")
    bundle = Path(__file__).resolve().parents[1] / "model" / "assets" / "default_bundle"
    done = subprocess.run(
        [sys.executable, str(STUDIES / "penn_bundles.py"), str(bundle), "--shared", str(shared),
         "--cache", str(tmp_path / "cache")],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    row = next(line for line in done.stdout.splitlines() if line.startswith("| default_bundle"))
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert cells[1] == "2" and 0 <= float(cells[3]) <= 100  # two clips, a percentage
    per_class = [line for line in done.stdout.splitlines() if line.startswith("| jumping jacks")]
    assert len(per_class) == 1


def test_heldout_by_source_splits_the_held_out_accuracy_by_source(tmp_path: Path) -> None:
    synthetic = pytest.importorskip("actzero.training.synthetic")
    from actzero.training.dataset import ClassInfo, Dataset, save_dataset

    names = list(synthetic.SYNTHETIC_ACTIONS[:3])  # the shipped bundle has these actions
    clips = synthetic.generate_clips(names, clips_per_class=10, seed=0)
    sources = np.array(["synthetic", "utd-mhad"] * (len(clips) // 2))
    dataset = Dataset(
        frames=np.concatenate([c.joints for c in clips]).astype(np.float32),
        offsets=np.concatenate([[0], np.cumsum([len(c.joints) for c in clips])]).astype(np.int64),
        labels=np.array([names.index(c.name) for c in clips], dtype=np.int64),
        classes=[ClassInfo(n, (f"A person does {n}.",), "synthetic", "MIT") for n in names],
        clip_ids=np.array([c.clip_id for c in clips]),
        sources=sources,
        actors=np.full(len(clips), ""),
        meta={"format": "actzero-dataset", "version": 3, "fps": 30.0},
    )
    save_dataset(dataset, tmp_path / "tiny.npz")
    bundle = STUDIES.parent / "model" / "assets" / "default_bundle"
    done = subprocess.run(
        [sys.executable, str(STUDIES / "heldout_by_source.py"), str(bundle),
         str(bundle / ".." / "default_bundle"), "--dataset", str(tmp_path / "tiny.npz"), "--confusions", "2"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    rows = {line.split("|")[1].strip(): line for line in done.stdout.splitlines() if line.startswith("| ")}
    assert {"synthetic", "utd-mhad", "all"} <= set(rows)
    first, second = (cell.strip() for cell in rows["all"].strip("|").split("|")[1:3])
    assert first == second and re.fullmatch(
        r"\d+\.\d \(\d+\)", first
    )  # the same bundle twice: the same figure
    assert "Largest changes" in done.stdout


def test_latent_validation_ranks_a_head_that_reads_the_class_above_one_that_cannot() -> None:
    import latent_validation

    from actzero.training.cross_source import WindowFeatures
    from actzero.training.evaluate import Features

    rng = np.random.default_rng(0)
    classes, dims = 12, 24
    embeddings = [rng.normal(size=(2, dims)) for _ in range(classes)]
    mixing = rng.normal(size=(dims, 16))

    def group(per_class: int, windows: int) -> WindowFeatures:
        labels = np.repeat(np.arange(classes), per_class)
        clip = np.repeat(np.arange(len(labels)), windows)
        features = np.stack([embeddings[c].mean(0) for c in labels[clip]]) @ mixing
        features = np.maximum(features + 0.2 * rng.normal(size=features.shape), 0).astype(np.float32)
        return WindowFeatures(Features(features, np.zeros((len(clip), 1)), labels[clip]), clip, labels)

    feats = {"train": group(8, 3), "val": group(3, 2)}
    names = [f"class {c}" for c in range(classes)]
    scores = latent_validation.validation_scores(
        feats, list(range(classes)), ["projection", "projection@1e6"], names, embeddings, folds=3
    )
    assert scores["projection"] > 0.5  # 4 pseudo-unseen classes per fold: chance 0.25
    assert scores["projection@1e6"] < scores["projection"]  # a ridge that large flattens the map


def test_mixed_label_sets_trade_shipped_for_new_labels_as_the_penalty_grows() -> None:
    import mixed_label_sets

    rng = np.random.default_rng(1)
    classes, dims, trained = 12, 24, 8  # classes 0-7 trained on, 8-11 the fold's (new) classes
    embeddings = [rng.normal(size=(2, dims)) for _ in range(classes)]
    mixing = rng.normal(size=(dims, 16))

    def group(labels_of_clips: np.ndarray, windows: int, prefix: str) -> dict[str, np.ndarray]:
        clip = np.repeat(np.arange(len(labels_of_clips)), windows)
        labels = labels_of_clips[clip]
        features = np.stack([embeddings[c].mean(0) for c in labels]) @ mixing
        features = np.maximum(features + 0.3 * rng.normal(size=features.shape), 0).astype(np.float32)
        logits = 2.0 * np.eye(classes)[labels][:, :trained] + rng.normal(size=(len(labels), trained))
        return {
            f"{prefix}_f": features,
            f"{prefix}_logits": logits,
            f"{prefix}_y": labels,
            f"{prefix}_clip": clip,
            f"{prefix}_clip_labels": labels_of_clips,
        }

    fold = {
        **group(np.repeat(np.arange(trained), 6), 3, "train"),
        **group(np.repeat(np.arange(trained), 3), 2, "val"),
        **group(np.repeat(np.arange(trained, classes), 3), 2, "test"),
    }
    scores = mixed_label_sets.penalty_scores(fold, embeddings, [0.0, 20.0], 3, 3, 4, rng)
    (s0, u0), (s20, u20) = (np.mean(scores[("mixed", p)], axis=0) for p in (0.0, 20.0))
    assert u20 > u0 and s20 <= s0  # the penalty moves clips from the shipped labels to the new ones
    assert all(0.0 <= v <= 1.0 for pairs in scores.values() for pair in pairs for v in pair)
    assert len(scores[("full", 0.0)]) == 1


def test_jitter_index_tells_sensor_noise_from_smooth_motion_and_the_filter_lowers_it() -> None:
    import jitter_by_source

    t = np.linspace(0, 2 * np.pi, 64)
    smooth = np.broadcast_to(np.sin(t)[None, :, None, None], (2, 64, 25, 3)).astype(np.float32)
    noisy = smooth + 0.05 * np.random.default_rng(0).normal(size=smooth.shape).astype(np.float32)
    assert jitter_by_source.jitter_index(smooth)[1] < 0.2 < jitter_by_source.jitter_index(noisy)[1]
    filtered = jitter_by_source.low_pass(noisy, 2.0)
    assert jitter_by_source.jitter_index(filtered)[1] < jitter_by_source.jitter_index(noisy)[1] / 2
