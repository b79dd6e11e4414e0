"""Worker core: real MediaPipe poses of the sample video through the real default bundle."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from _worker_poses import replay, replay_one_person

from actzero.model.bundle import Bundle
from actzero.model.mapping import mediapipe_to_ntu
from actzero.model.windows import track_window
from actzero.stream.frames import PoseFrame
from actzero.stream.tracker import Tracker, torso_summary
from actzero.stream.worker import WorkerConfig, WorkerCore


def test_two_people_get_their_own_tracks_and_results(bundle: Bundle, make_core) -> None:
    core = make_core()
    frames = replay("cam", 72)
    results = list(core.run(frames, flush=False))
    tracks = {r.track for r in results}
    assert len(tracks) >= 2, "the sample shows two people"
    labels = set(core.labels)
    for r in results:
        assert r.source == "cam"
        assert r.label is None or r.label in labels
        assert r.top_k[0] == (r.top_k[0][0], pytest.approx(r.score))
        probs = [p for _, p in r.top_k]
        assert probs == sorted(probs, reverse=True) and all(0.0 <= p <= 1.0 for p in probs)
        assert len(r.top_k) == min(5, len(labels)) and {n for n, _ in r.top_k} <= labels
        assert core.config.min_frames <= r.frames <= bundle.window
        assert 0 <= r.start_index <= r.end_index < len(frames)
        assert frames[r.end_index].capture_ts == r.end_ts
        assert r.end_ts - r.start_ts == pytest.approx((r.frames - 1) / bundle.fps, abs=1e-6)
        assert set(r.timings_ms) == {"map", "canonicalise", "model", "total"}
        assert r.timings_ms["total"] >= r.timings_ms["model"] > 0
    for track in tracks:
        ends = [r.end_ts for r in results if r.track == track]
        # cadence: one window per stride (8 frames at 30 fps) of the person's own frames
        assert all(b - a >= 8 / 30 - 1e-3 for a, b in zip(ends, ends[1:], strict=False))
    status = core.status()
    assert status["frames_in"] == 72 and status["windows_classified"] == len(results)
    assert status["timings_ms"]["model"]["p95"] >= status["timings_ms"]["model"]["p50"] > 0


def test_track_ids_of_each_frame_are_the_trackers(make_core) -> None:
    core = make_core()
    tracker = Tracker(core.config.tracker)
    seen: set[int] = set()
    for frame in replay("cam", 60):
        core.ingest(frame)
        centres, scales, quality = torso_summary(frame.image, frame.visibility, frame.width, frame.height)
        expected = tracker.update(centres, scales, frame.capture_ts, quality).ids
        np.testing.assert_array_equal(core.track_ids("cam"), expected)
        seen |= set(expected.tolist())
    assert len(seen - {-1}) >= 2
    assert core.track_ids("unknown").size == 0


def test_first_window_after_min_frames_then_every_stride(bundle: Bundle, make_core) -> None:
    core = make_core(stride=8, min_frames=24)
    frames = replay_one_person("cam", 60)
    assert sum(f.num_persons for f in frames) == 58  # she is missed in two frames
    ends = [r.end_index for f in frames for r in core.process(f)]
    assert ends == [24, 32, 40, 48, 56]  # frame 0 is empty: her track starts at frame 1


def test_a_source_at_15_fps_gives_windows_at_the_bundle_rate(bundle: Bundle, make_core) -> None:
    core = make_core(stride=8, min_frames=24)
    frames = replay_one_person("cam", 40, fps=15.0)
    results = [r for f in frames for r in core.process(f)]
    # 24 frames at 30 fps span 23/30 s, i.e. 11.5 frames at 15 fps: the first window ends at
    # the 13th frame of her track (index 13); then every 8/30 s = 4 frames at 15 fps
    assert [r.end_index for r in results[:3]] == [13, 17, 21]
    assert all(r.frames == round((r.end_ts - r.start_ts) * 30) + 1 for r in results)


def test_probabilities_are_the_classifier_on_the_resampled_canonical_window(
    bundle: Bundle, classifier, make_core
) -> None:
    core = make_core(ema=1.0, top_k=len(bundle.actions))
    frames = replay_one_person("cam", 70)
    result = next(r for f in frames for r in core.process(f) if r.frames == bundle.window)
    seen = [f for f in frames[: result.end_index + 1] if f.num_persons]
    ts = np.array([f.capture_ts for f in seen])
    joints = np.stack([mediapipe_to_ntu(f.world[0], f.visibility[0]) for f in seen])
    _, window = track_window(ts, joints, bundle.window, bundle.fps, bundle.window, bundle.canonical_frame)
    expected = classifier.probabilities(window[None])[0]
    got = dict(result.top_k)
    np.testing.assert_allclose([got[name] for name in classifier.labels], expected, rtol=1e-4, atol=1e-6)


def test_smoothing_averages_probabilities_over_windows(bundle: Bundle, make_core) -> None:
    frames = replay_one_person("cam", 70)
    raw = make_core(ema=1.0, top_k=len(bundle.actions))
    smooth = make_core(ema=0.5, top_k=len(bundle.actions))
    raw_results = [dict(r.top_k) for r in raw.run(frames, flush=False)]
    smooth_results = [dict(r.top_k) for r in smooth.run(frames, flush=False)]
    assert len(raw_results) == len(smooth_results) >= 3
    expected = raw_results[0]
    for i, (r, s) in enumerate(zip(raw_results, smooth_results, strict=True)):
        if i:
            expected = {name: 0.5 * expected[name] + 0.5 * r[name] for name in r}
        assert s == pytest.approx(expected, rel=1e-4, abs=1e-6)


def test_action_set_swaps_atomically_while_frames_flow(bundle: Bundle) -> None:
    small, large = bundle.actions[:3], bundle.actions[:6]  # small sets: quick fits
    core = WorkerCore(bundle, large, WorkerConfig(stride=2))
    large_names, small_names = set(core.labels), {a.name for a in small}
    stop = threading.Event()
    errors: list[BaseException] = []

    def swap() -> None:
        try:
            while not stop.is_set():
                core.set_actions(small)
                core.set_actions(large)
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=swap)
    thread.start()
    try:
        results = list(core.run(replay("cam", 90), flush=False))
    finally:
        stop.set()
        thread.join()
    assert not errors
    assert results
    for r in results:  # each result comes entirely from one of the two classifiers
        names = {n for n, _ in r.top_k}
        assert names == small_names or len(names) == 5 and names <= large_names
    core.set_actions(small)
    after = list(core.run(replay("cam", 30, start_ts=2e9, start_index=1000), flush=True))
    assert after and all({n for n, _ in r.top_k} == small_names for r in after)


def test_rejects_bad_action_sets_and_old_frames(bundle: Bundle, make_core) -> None:
    core = make_core()
    with pytest.raises(ValueError, match="empty"):
        core.set_actions([])
    with pytest.raises(ValueError, match="action 1: an action named .* already exists"):
        core.set_actions([bundle.actions[0], bundle.actions[0]])
    frames = replay("cam", 3)
    assert core.ingest(frames[1]) and not core.ingest(frames[0]) and not core.ingest(frames[1])
    assert core.status()["frames_rejected"] == 2


def test_tracks_and_sources_expire_and_free_memory(bundle: Bundle, make_core) -> None:
    core = make_core()
    frames = replay("cam", 20)
    for f in frames:
        core.ingest(f)
    assert core.num_tracks >= 2
    last = frames[-1]
    empty = np.zeros((0, 33, 3), dtype=np.float32)
    for k in range(1, 40):  # everyone leaves
        gone = PoseFrame(
            "cam", last.index + k, last.capture_ts + k / 30, 640, 360, empty, empty, empty[..., 0]
        )
        core.ingest(gone)
    assert core.num_tracks == 0 and core.status()["tracks_expired"] >= 2
    core.ingest(replay("other", 1, start_ts=3e9)[0])
    assert core.expire_idle_sources(max_idle_s=0.0) == ["cam", "other"]
    assert core.status()["sources"] == 0


def test_short_tracks_are_never_classified(bundle: Bundle, make_core) -> None:
    core = make_core(min_frames=24)
    frames = replay_one_person("cam", 24)  # her track covers frames 1..23: 23 frames
    assert list(core.run(frames, flush=True)) == []


def test_a_bundle_in_the_image_frame_reads_the_image_landmarks(bundle: Bundle, classifier) -> None:
    from dataclasses import replace

    flat = replace(bundle, canonical_frame="image")
    core = WorkerCore(flat, classifier=classifier, config=WorkerConfig(ema=1.0, top_k=len(bundle.actions)))
    frames = replay_one_person("cam", 70)
    result = next(r for f in frames for r in core.process(f) if r.frames == bundle.window)
    seen = [f for f in frames[: result.end_index + 1] if f.num_persons]
    ts = np.array([f.capture_ts for f in seen])
    image = [
        mediapipe_to_ntu(f.image[0], f.visibility[0], coords="image", aspect_ratio=f.width / f.height)
        for f in seen
    ]
    _, window = track_window(ts, np.stack(image), bundle.window, bundle.fps, bundle.window, "image")
    assert np.all(window[..., 2] == 0)
    got = dict(result.top_k)
    expected = classifier.probabilities(window[None])[0]
    np.testing.assert_allclose([got[name] for name in classifier.labels], expected, rtol=1e-4, atol=1e-6)
