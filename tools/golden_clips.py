"""Write tests/data/golden_clips.json: real held-out clips the shipped bundle must keep recognising.

The bundle's training held out 10% of the data set's clips per class
(`training.train.stratified_holdout`, the manifest's seed). From the held-out clips of a
few sources whose archives are small (Bandai Namco set 1, UTD-MHAD, MSR Action3D, NW-UCLA,
HDM05) this takes, per source, `--slice` clips spread evenly over its held-out clips (clip-id order)
and classifies
each file as `actzero classify` would (the bundle's own label set). It records:

- "slice": every one of those clips with its true class, and the accuracy measured on them;
  tests/test_golden.py asserts a floor `--margin` below it (a broken retrain falls through);
- "golden": per source, the first `--golden` clips of the slice that come out right; the
  test asserts they still do (the expected label is the clip's true class).

Run after retraining the default bundle, from the repository root (needs the data set the
bundle was trained on and its extracted archives in cache/, as `actzero data build` leaves them):
    python tools/golden_clips.py --dataset cache/dataset-v3.npz
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
# source -> (archive under ../shared/data, folder of its extracted copy in cache/, file suffix)
ARCHIVES = {
    "bandai-namco": (
        "bandai-namco/Bandai-Namco-Research-Motiondataset-1.tar.xz",
        "bandai-namco",
        ".bvh",
    ),
    "utd-mhad": ("kinect/utd-mhad/UTD-MHAD-skeleton.tar.xz", "utd-mhad", ".mat"),
    "msr-action3d": ("kinect/msr-action3d/MSRAction3D-skeleton.tar.xz", "msr-action3d", ".txt"),
    "nw-ucla": ("kinect/nw-ucla/NW-UCLA-all_sqe.tar.xz", "nw-ucla", ".json"),
    "hdm05": ("mocap/hdm05-subset/HDM05-subset.tar.xz", "hdm05", ".amc"),
}


def _member(cache: Path, folder: str, stem: str, suffix: str) -> list[str] | None:
    """Archive member path(s) of a clip (an .amc brings its .asf), relative to the archive root."""
    found = sorted(p for p in (cache / folder).rglob(f"{stem}{suffix}"))
    found = [p for p in found if "Motiondataset-1" in str(p)] if folder == "bandai-namco" else found
    if not found:
        return None
    members = [str(found[0].relative_to(cache / folder))]
    if suffix == ".amc":
        from actzero.model.asf_amc import find_asf

        members.append(str(find_asf(found[0]).relative_to(cache / folder)))
    return members


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--dataset", type=Path, default=REPO / "cache" / "dataset-v3.npz")
    parser.add_argument("--cache", type=Path, default=REPO / "cache")
    parser.add_argument("--slice", type=int, default=8, help="held-out clips per source in the slice")
    parser.add_argument("--golden", type=int, default=2, help="golden clips per source")
    parser.add_argument("--margin", type=float, default=0.15, help="floor = slice accuracy - margin")
    parser.add_argument("--out", type=Path, default=REPO / "tests" / "data" / "golden_clips.json")
    args = parser.parse_args()

    from actzero.api import Recognizer
    from actzero.model.readers import read_skeleton_file
    from actzero.training.dataset import load_dataset
    from actzero.training.train import stratified_holdout

    recognizer = Recognizer()
    seed = int(recognizer.bundle.manifest["training"]["seed"])
    dataset = load_dataset(args.dataset)
    _, held = stratified_holdout(np.asarray(dataset.labels), 0.1, seed)
    slice_rows, golden = [], []
    for source, (archive, folder, suffix) in ARCHIVES.items():
        rows = []
        mine = [i for i in held if str(dataset.sources[i]) == source]
        for i in [mine[int(k)] for k in np.linspace(0, len(mine) - 1, min(len(mine), 3 * args.slice))]:
            if len(rows) == args.slice:
                break
            stem = str(dataset.clip_ids[i]).split("/")[-1]
            members = _member(args.cache, folder, stem, suffix)
            if members is None:
                continue
            path = args.cache / folder / members[0]
            _, joints, fps = read_skeleton_file(path)[0]
            truth = dataset.classes[int(dataset.labels[i])].name
            try:
                predicted = recognizer.classify_skeleton(joints, fps).label
            except ValueError as error:  # e.g. a clip shorter than the model accepts
                print(f"{source:13s} {stem:45s} skipped: {error}")
                continue
            rows.append(
                {
                    "source": source,
                    "archive": archive,
                    "members": members,
                    "label": truth,
                    "right": predicted == truth,
                }
            )
            print(f"{source:13s} {stem:45s} {truth:32s} -> {predicted}")
        slice_rows += rows
        golden += [r for r in rows if r["right"]][: args.golden]
    accuracy = float(np.mean([r["right"] for r in slice_rows]))
    out = {
        "bundle_trained_on": recognizer.bundle.manifest["provenance"]["dataset"],
        "command": "python tools/golden_clips.py "
        + " ".join(
            f"--{k} {v}" for k, v in (("slice", args.slice), ("golden", args.golden), ("margin", args.margin))
        ),
        "slice_accuracy": round(accuracy, 4),
        "floor": round(max(0.0, accuracy - args.margin), 4),
        "slice": [{k: v for k, v in r.items() if k != "right"} for r in slice_rows],
        "golden": [{k: v for k, v in r.items() if k != "right"} for r in golden],
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=1) + "\n")
    print(f"slice accuracy {accuracy:.3f} on {len(slice_rows)} clips; {len(golden)} golden; wrote {args.out}")


if __name__ == "__main__":
    main()
