"""What each person in the sample video is labelled, per bundle: the timeline and two checks.

The sample video (samples/sports2d-demo.mp4, 7.67 s) shows a man doing jumping jacks from about
0.2 s to 2.4 s (checked frame by frame), then walking; a woman walks across. Per bundle this
prints every track's segments (start, end, label, score) and, per track, the share of its
classified time in 0.2-2.4 s labelled "jumping jacks" and the share of its whole classified
time labelled so (the issue-14 check: at least half of the man's jumping jacks, under 20 % of
the woman's walk). Which track is which person is read from the printed timeline, not assumed.

Run:
    python studies/sample_video_labels.py model/assets/default_bundle /tmp/other_bundle
    python studies/sample_video_labels.py model/assets/default_bundle --pose-every 2  # every 2nd frame
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from actzero.api import Recognizer, annotate_video
from actzero.stream.capture import SAMPLE_VIDEO

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))  # bench/report.py: Table
from report import Table, print_tables  # noqa: E402

JACKS = (0.2, 2.4)  # seconds of the man's jumping jacks
LABEL = "jumping jacks"


def overlap(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Seconds two time ranges share."""
    return max(0.0, min(a[1], b[1]) - max(a[0], b[0]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("bundles", nargs="+", type=Path)
    parser.add_argument("--video", type=Path, default=SAMPLE_VIDEO)
    parser.add_argument("--pose-every", type=int, default=1, help="as `actzero annotate --pose-every`")
    args = parser.parse_args()
    for bundle in args.bundles:
        annotation = annotate_video(args.video, Recognizer(bundle), pose_every=args.pose_every)
        columns = ("track", "seen s", "segments (start-end label score)", "jacks 0.2-2.4 s", "jacks all")
        every = f", poses of every {args.pose_every} frames" if args.pose_every > 1 else ""
        table = Table(f"{bundle} ({annotation.bundle_id}){every}", columns)
        for person in annotation.persons:
            if not person.segments:
                continue
            spans = [((s.start_s, s.end_s), s) for s in person.segments]
            in_range = sum(overlap(span, JACKS) for span, _ in spans)
            jacks_in = sum(overlap(span, JACKS) for span, s in spans if s.label == LABEL)
            total = sum(span[1] - span[0] for span, _ in spans)
            jacks = sum(span[1] - span[0] for span, s in spans if s.label == LABEL)
            text = "; ".join(
                f"{s.start_s:.1f}-{s.end_s:.1f} {s.label or 'no action'} {s.score:.2f}" for _, s in spans
            )
            table.add(
                str(person.track),
                f"{person.first_s:.1f}-{person.last_s:.1f}",
                text,
                f"{100 * jacks_in / in_range:.0f}%" if in_range else "-",
                f"{100 * jacks / total:.0f}%" if total else "-",
            )
        print_tables([table])


if __name__ == "__main__":
    main()
