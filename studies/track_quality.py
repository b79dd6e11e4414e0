"""Track quality on a video: how many ids the tracker makes and how often a person's id switches.

Runs MediaPipe once over a video (default: the bundled sample, two people), caches the pose
frames as .npz (default folder /work/cache/tracker, `--cache`), and feeds them to the stream
tracker exactly as the worker does. There is no ground truth, so the sample
video's two people are labelled by hand-read reference paths (`SAMPLE_PEOPLE`: keyframes of
each person's torso centre, read off the detections and checked on the frames, linearly
interpolated): in each frame a person's detection is the one nearest to the person's reference
point, if it lies within `MATCH_RADIUS`; every other detection belongs to nobody (a duplicate
pose, a ghost on a tree or on a person's legs). Prints:

- ids: distinct published track ids (>= 0); short: ids on fewer frames than one second;
  spurious: ids never given to a person's detection;
- per person: frames with a detection, frames whose detection had an id, the ids used, and
  id switches: successive id-bearing detections of the person whose ids differ (a gap of frames
  without an id in between does not hide a switch);
- per id: first and last frame, frames, and whose detections it carried.

Run:
    python studies/track_quality.py
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))  # bench/report.py: Table

from report import Table, print_tables  # noqa: E402

from actzero.stream.capture import SAMPLE_VIDEO
from actzero.stream.frames import PoseFrame
from actzero.stream.tracker import Tracker, TrackerConfig, torso_summary
from actzero.stream.worker import WorkerConfig

CACHE = Path("/work/cache/tracker")


def cached_pose_frames(video: Path, cache: Path) -> list[PoseFrame]:
    """The video's pose frames (MediaPipe, default options), computed once and kept in `cache`."""
    stat = video.stat()
    path = cache / f"{video.stem}-{stat.st_size}-{int(stat.st_mtime)}.npz"
    if not path.is_file():
        from actzero.stream.annotate import video_pose_frames
        from actzero.stream.capture import VideoFileSource
        from actzero.stream.pose import PoseEstimator

        with VideoFileSource(video, realtime=False) as source, PoseEstimator.create() as pose:
            frames = list(video_pose_frames(source, pose, video.stem))
        cache.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(
            path,
            counts=np.array([f.num_persons for f in frames]),
            index=np.array([f.index for f in frames]),
            ts=np.array([f.capture_ts for f in frames]),
            size=np.array([frames[0].width, frames[0].height]),
            image=np.concatenate([f.image for f in frames]),
            world=np.concatenate([f.world for f in frames]),
            visibility=np.concatenate([f.visibility for f in frames]),
        )
    data = np.load(path)
    width, height = (int(v) for v in data["size"])
    bounds = np.concatenate([[0], np.cumsum(data["counts"])])
    return [
        PoseFrame(
            video.stem,
            int(index),
            float(ts),
            width,
            height,
            data["image"][a:b],
            data["world"][a:b],
            data["visibility"][a:b],
        )  # fmt: skip
        for index, ts, a, b in zip(data["index"], data["ts"], bounds[:-1], bounds[1:], strict=True)
    ]


# Torso centres (x scaled by width / height, as `torso_summary` gives them) read off the sample
# video's detections, frame by frame, and checked against the frames themselves.
SAMPLE_PEOPLE: dict[str, list[tuple[int, float, float]]] = {
    # on the box: jumping jacks (frames 3-110), walks right along it (to 171), flips down
    # (not detected 172-185), lands (186-190) and walks right from a crouch (198-226)
    "man": [
        (3, 0.68, 0.35), (9, 0.65, 0.23), (110, 0.67, 0.21), (171, 0.87, 0.22),
        (186, 1.00, 0.45), (190, 1.04, 0.44), (198, 1.13, 0.80), (226, 1.56, 0.68),
    ],
    # walks right to left in front of the box (frames 59-201), partly hidden by a tree trunk
    "woman": [(59, 1.44, 0.69), (130, 0.75, 0.66), (201, -0.01, 0.65)],
}  # fmt: skip
MATCH_RADIUS = 0.1  # of the image height: about 0.8 torso lengths of either person


def label_people(
    centres: list[np.ndarray], people: dict[str, list[tuple[int, float, float]]]
) -> list[dict[str, int]]:
    """Which detection of each frame is which person.

    Args:
        centres: per frame, (P, 2) torso centres (NaN rows for unusable detections).
        people: per person, keyframes (frame, x, y) of the torso centre; the person is in view
            from the first keyframe to the last one.

    Returns:
        Per frame, {person: detection index} for the people whose detection was found.
    """
    labels: list[dict[str, int]] = [{} for _ in centres]
    for name, keys in people.items():
        frames, xs, ys = (np.array(v, dtype=np.float64) for v in zip(*keys, strict=True))
        for f in range(int(frames[0]), min(int(frames[-1]) + 1, len(centres))):
            if not len(centres[f]):
                continue
            ref = np.array([np.interp(f, frames, xs), np.interp(f, frames, ys)])
            dist = np.linalg.norm(centres[f] - ref, axis=1)
            dist = np.where(np.isfinite(dist), dist, np.inf)
            if dist.min() < MATCH_RADIUS:
                labels[f][name] = int(dist.argmin())
    return labels


def track_ids(frames: list[PoseFrame], config: TrackerConfig, max_persons: int) -> list[np.ndarray]:
    """Per frame, the published id of each detection, fed as `WorkerCore.ingest` feeds its tracker."""
    tracker = Tracker(config)
    out = []
    for frame in frames:
        centres, scales, quality = torso_summary(
            frame.image[:max_persons], frame.visibility[:max_persons], frame.width, frame.height,
            config.min_visibility,
        )  # fmt: skip
        ids = tracker.update(centres, scales, frame.capture_ts, quality).ids
        out.append(np.concatenate([ids, np.full(frame.num_persons - len(ids), -1, dtype=np.int64)]))
    return out


def quality_tables(
    ids: list[np.ndarray], labels: list[dict[str, int]], fps: float, title: str
) -> list[Table]:
    """The summary (one row), per-person and per-id tables of one tracker run."""
    frames_of: dict[int, list[int]] = {}
    owners: dict[int, dict[str, int]] = {}
    for f, frame_ids in enumerate(ids):
        owner_of = {det: name for name, det in labels[f].items()}
        for det, tid in enumerate(frame_ids.tolist()):
            if tid >= 0:
                frames_of.setdefault(tid, []).append(f)
                who = owner_of.get(det, "nobody")
                owners.setdefault(tid, {}).setdefault(who, 0)
                owners[tid][who] += 1
    people = sorted({name for frame in labels for name in frame})
    person_rows = []
    for name in people:
        seen = [(f, int(ids[f][labels[f][name]])) for f in range(len(ids)) if name in labels[f]]
        with_id = [tid for _, tid in seen if tid >= 0]
        switches = sum(a != b for a, b in zip(with_id, with_id[1:], strict=False))
        person_rows.append((name, len(seen), len(with_id), sorted(set(with_id)), switches))

    short = [tid for tid, fs in frames_of.items() if len(fs) < fps]
    spurious = [tid for tid, who in owners.items() if set(who) == {"nobody"}]
    summary = Table(
        f"Track quality: {title}",
        ["ids", "ids < 1 s", "spurious ids", "id switches", *(f"{n}: ids" for n in people)],
    )
    summary.add(
        len(frames_of), len(short), len(spurious), sum(r[4] for r in person_rows),
        *(len(r[3]) for r in person_rows),
    )  # fmt: skip
    per_person = Table(
        f"Per person: {title}", ["person", "frames seen", "frames with an id", "ids", "id switches"]
    )
    for name, seen, with_id, used, switches in person_rows:
        per_person.add(name, seen, with_id, " ".join(map(str, used)), switches)
    per_id = Table(f"Per id: {title}", ["id", "first frame", "last frame", "frames", "detections of"])
    for tid, fs in sorted(frames_of.items()):
        who = ", ".join(f"{n} {c}" for n, c in sorted(owners[tid].items(), key=lambda kv: -kv[1]))
        per_id.add(tid, fs[0], fs[-1], len(fs), who)
    return [summary, per_person, per_id]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--video", type=Path, default=SAMPLE_VIDEO)
    parser.add_argument("--cache", type=Path, default=CACHE, help="folder of the cached pose frames")
    parser.add_argument("--title", default="stream tracker, default settings")
    args = parser.parse_args()

    frames = cached_pose_frames(args.video, args.cache)
    worker = WorkerConfig()
    ids = track_ids(frames, worker.tracker, worker.max_persons)
    min_vis = worker.tracker.min_visibility
    centres = [torso_summary(f.image, f.visibility, f.width, f.height, min_vis)[0] for f in frames]
    people = SAMPLE_PEOPLE if args.video.resolve() == SAMPLE_VIDEO.resolve() else {}
    fps = 1.0 / float(np.median(np.diff([f.capture_ts for f in frames]))) if len(frames) > 1 else 30.0
    print_tables(quality_tables(ids, label_people(centres, people), fps, args.title))


if __name__ == "__main__":
    main()
