"""Tracker: stable ids for several people within one source (crossing, occlusion, leaving)."""

from __future__ import annotations

import numpy as np

from actzero.stream.tracker import Tracker, TrackerConfig, torso_summary

FPS = 30.0


def _run(tracker: Tracker, positions: np.ndarray, scales: np.ndarray) -> np.ndarray:
    """Feed (T, P, 2) centres; returns (T, P) ids (rows with NaN centres give -1)."""
    out = []
    for t in range(len(positions)):
        out.append(tracker.update(positions[t], scales[t], t / FPS).ids)
    return np.stack(out)


def test_two_people_crossing_keep_their_ids() -> None:
    rng = np.random.default_rng(0)
    t = np.arange(90) / FPS
    # A walks left -> right, B right -> left, at slightly different heights: they cross at t = 1.5 s.
    a = np.stack([0.2 + 0.4 * t, 0.50 + 0.005 * np.sin(7 * t)], axis=1)
    b = np.stack([1.4 - 0.4 * t, 0.52 + 0.005 * np.cos(5 * t)], axis=1)
    positions = np.stack([a, b], axis=1) + rng.normal(0, 0.003, (90, 2, 2))
    scales = np.full((90, 2), 0.25) + rng.normal(0, 0.005, (90, 2))
    for order in (slice(None), slice(None, None, -1)):  # detection order must not matter
        ids = _run(Tracker(), positions[:, order], scales[:, order])
        # while the torsos overlap one body hides the other (-1) for a few frames, then both come back
        hidden = (ids == -1).any(axis=1)
        assert hidden.sum() <= 4 and not hidden[:40].any() and not hidden[50:].any()
        for person in (0, 1):
            seen = ids[:, person][ids[:, person] >= 0]
            assert (seen == ids[0, person]).all()
        assert ids[0, 0] != ids[0, 1]


def test_detection_order_shuffled_every_frame() -> None:
    rng = np.random.default_rng(1)
    t = np.arange(60) / FPS
    walking_right = np.stack([0.3 + 0.3 * t, np.full(60, 0.5)], axis=1)
    walking_left = np.stack([1.0 - 0.3 * t, np.full(60, 0.45)], axis=1)
    standing = np.stack([np.full(60, 0.6), np.full(60, 0.9)], axis=1)
    people = np.stack([walking_right, walking_left, standing], axis=1)
    tracker = Tracker()
    identity: dict[int, int] = {}  # person -> id
    for f in range(60):
        perm = rng.permutation(3)
        ids = tracker.update(people[f, perm], np.full(3, 0.2), f / FPS).ids
        for slot, person in enumerate(perm):
            if ids[slot] >= 0:  # -1: hidden behind the other walker while they cross
                assert identity.setdefault(int(person), int(ids[slot])) == ids[slot]
    assert len(set(identity.values())) == 3


def test_short_occlusion_keeps_id_long_absence_expires_and_ids_are_not_reused() -> None:
    config = TrackerConfig(max_missed_frames=10, max_missed_s=10.0)
    tracker = Tracker(config)
    centre, scale = np.array([[0.5, 0.5]]), np.array([0.2])
    first = tracker.update(centre, scale, 0.0).ids[0]
    for f in range(1, 6):  # hidden for 5 frames: fewer than max_missed_frames
        assert tracker.update(np.empty((0, 2)), np.empty(0), f / FPS).expired == []
    assert tracker.update(centre, scale, 6 / FPS).ids[0] == first

    expired = []
    for f in range(7, 7 + config.max_missed_frames + 1):
        expired += tracker.update(np.empty((0, 2)), np.empty(0), f / FPS).expired
    assert expired == [first] and tracker.active_ids == []
    # the same place later is a new person: a new id once the track is confirmed
    again = [tracker.update(centre, scale, 1.0 + f / FPS).ids[0] for f in range(config.min_hits)]
    assert again[-1] != first and again[-1] >= 0


def test_tracks_expire_by_time_too() -> None:
    tracker = Tracker(TrackerConfig(max_missed_frames=100, max_missed_s=0.5))
    tid = tracker.update(np.array([[0.5, 0.5]]), np.array([0.2]), 0.0).ids[0]
    assert tracker.update(np.empty((0, 2)), np.empty(0), 0.4).expired == []
    assert tracker.update(np.empty((0, 2)), np.empty(0), 0.6).expired == [tid]


def test_far_jump_is_a_new_person_and_nan_detection_gets_no_id() -> None:
    tracker = Tracker()
    first = tracker.update(np.array([[0.2, 0.5]]), np.array([0.2]), 0.0).ids[0]
    ids = tracker.update(np.array([[1.2, 0.5], [np.nan, np.nan]]), np.array([0.2, 0.2]), 1 / FPS).ids
    assert ids[0] != first and ids[1] == -1
    # a big change of apparent size at the same place is not the same person either
    tracker = Tracker()
    first = tracker.update(np.array([[0.5, 0.5]]), np.array([0.1]), 0.0).ids[0]
    assert tracker.update(np.array([[0.5, 0.5]]), np.array([0.6]), 1 / FPS).ids[0] != first


def _landmarks(cx: float, cy: float, torso: float) -> np.ndarray:
    """MediaPipe-like (33, 3) image landmarks with the shoulders and hips around a centre."""
    lm = np.full((33, 3), 0.5, dtype=np.float32)
    lm[[11, 12], 1] = cy - torso / 2
    lm[[23, 24], 1] = cy + torso / 2
    lm[[11, 23], 0] = cx + 0.03
    lm[[12, 24], 0] = cx - 0.03
    return lm


def test_torso_summary_uses_visible_torso_and_aspect_ratio() -> None:
    image = np.stack([_landmarks(0.25, 0.5, 0.2), _landmarks(0.75, 0.4, 0.1)])
    vis = np.ones((2, 33), dtype=np.float32)
    centres, scales, _ = torso_summary(image, vis, width=1920, height=1080)
    np.testing.assert_allclose(centres, [[0.25 * 1920 / 1080, 0.5], [0.75 * 1920 / 1080, 0.4]], atol=1e-6)
    np.testing.assert_allclose(scales, [0.2, 0.1], atol=1e-6)
    vis[1, [11, 12]] = 0.0  # shoulders hidden: no torso length, hips still give a centre
    centres, scales, _ = torso_summary(image, vis, width=1080, height=1080)
    assert np.isfinite(centres[1]).all() and np.isnan(scales[1])
    assert Tracker().update(centres, scales, 0.0).ids[1] == -1


def test_duplicate_detection_of_one_body_is_dropped_keeping_the_better_one() -> None:
    tracker = Tracker()
    centres = np.array([[0.50, 0.50], [0.51, 0.50], [0.90, 0.50]])
    scales = np.array([0.2, 0.2, 0.2])
    ids = tracker.update(centres, scales, 0.0, quality=np.array([0.6, 0.9, 0.8])).ids
    assert ids[0] == -1 and ids[1] >= 0 and ids[2] >= 0 and ids[1] != ids[2]
    ids_next = tracker.update(centres, scales, 1 / FPS, quality=np.array([0.9, 0.6, 0.8])).ids
    assert ids_next[0] == ids[1] and ids_next[1] == -1 and ids_next[2] == ids[2]


def _walk(start: tuple[float, float], velocity: tuple[float, float], frames: int) -> np.ndarray:
    """(frames, 2) centres of a person walking at constant velocity (image heights per second)."""
    t = np.arange(frames)[:, None] / FPS
    return np.asarray(start) + np.asarray(velocity) * t


def test_people_crossing_at_the_same_height_keep_their_ids_in_every_detection_order() -> None:
    rng = np.random.default_rng(2)
    a = _walk((0.2, 0.5), (0.5, 0.0), 90)  # meet at x = 0.7 at t = 1 s, on one line
    b = _walk((1.2, 0.5), (-0.5, 0.0), 90)
    positions = np.stack([a, b], axis=1) + rng.normal(0, 0.004, (90, 2, 2))
    apart = np.abs(a[:, 0] - b[:, 0]) > 0.1  # half a torso: while closer, one body covers the other
    scales = np.full((90, 2), 0.2)
    for flip in rng.random(90) < 0.5, np.zeros(90, dtype=bool):
        tracker, track_of = Tracker(), {0: set(), 1: set()}
        for f in range(90):
            order = [1, 0] if flip[f] else [0, 1]
            ids = tracker.update(positions[f, order], scales[f, order], f / FPS).ids
            if apart[f]:
                assert (ids >= 0).all()
                for slot, person in enumerate(order):
                    track_of[person].add(int(ids[slot]))
        assert len(track_of[0]) == len(track_of[1]) == 1 and track_of[0] != track_of[1]


def test_a_walker_hidden_for_a_few_frames_comes_back_with_the_same_id() -> None:
    tracker = Tracker()
    path = _walk((0.3, 0.5), (0.6, 0.0), 40)  # 3 torso lengths per second
    hidden = range(15, 24)  # 9 frames: she moves 0.18, almost a torso length, meanwhile
    ids = [
        tracker.update(
            np.empty((0, 2)) if f in hidden else path[f : f + 1], np.full(int(f not in hidden), 0.2), f / FPS
        )
        for f in range(40)
    ]
    before, after = ids[14].ids[0], ids[24].ids[0]
    assert before >= 0 and after == before and all(u.expired == [] for u in ids)
    assert tracker.active_ids == [before]


def test_a_one_frame_ghost_never_gets_an_id() -> None:
    tracker = Tracker()
    person = _walk((0.3, 0.5), (0.3, 0.0), 30)
    published: set[int] = set()
    for f in range(30):
        centres, scales = person[f : f + 1], np.array([0.2])
        if f in (10, 20):  # a ghost pose far from her, one frame each time
            centres, scales = np.vstack([centres, [[1.5, 0.3]]]), np.array([0.2, 0.1])
        update = tracker.update(centres, scales, f / FPS)
        published |= set(update.ids[update.ids >= 0].tolist()) | set(tracker.active_ids)
        if f in (10, 20):
            assert update.ids[1] == -1
        assert update.expired == []  # a dropped tentative track never had an id to expire
    assert published == {0}


def test_a_new_person_far_away_gets_a_new_id_after_min_hits_frames() -> None:
    config = TrackerConfig(min_hits=3)
    tracker = Tracker(config)
    first = _walk((0.3, 0.5), (0.2, 0.0), 30)
    second = _walk((1.5, 0.6), (-0.2, 0.0), 30)
    for f in range(10):
        tracker.update(first[f : f + 1], np.array([0.2]), f / FPS)
    for k, f in enumerate(range(10, 30)):
        ids = tracker.update(np.stack([first[f], second[f]]), np.array([0.2, 0.2]), f / FPS).ids
        assert ids[0] == 0
        assert ids[1] == (-1 if k < config.min_hits - 1 else 1)


def test_a_lost_track_does_not_take_a_detection_beyond_its_reach() -> None:
    config = TrackerConfig(max_missed_frames=30, max_missed_s=2.0)
    tracker = Tracker(config)
    for f in range(5):
        first = tracker.update(np.array([[0.5, 0.5]]), np.array([0.2]), f / FPS).ids[0]
    # lost for half a second, then someone appears 3 torso lengths away: not the same person
    far = [tracker.update(np.array([[0.5, 1.1]]), np.array([0.2]), (20 + f) / FPS).ids[0] for f in range(3)]
    assert far[-1] >= 0 and far[-1] != first
    near = tracker.update(np.array([[0.55, 0.5], [0.5, 1.1]]), np.array([0.2, 0.2]), 23 / FPS).ids
    assert near.tolist() == [first, far[-1]]  # ... and the lost person, back near his place, is
