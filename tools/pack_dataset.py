"""Pack a data set .npz (and its class-text embeddings) small enough to carry to another machine.

The joints are quantised to 1 mm (NaN kept), stored as frame-to-frame int16 differences and
xz-compressed: data set v3 goes from 305 MiB to 58 MB. Unpacking rebuilds an .npz that
`training.dataset.load_dataset` reads (max joint error 0.5 mm). The class-text embeddings
(all-MiniLM-L6-v2, class order) let the evaluation run where that model is not installed.

Run:
    python tools/pack_dataset.py pack cache/dataset-v3.npz cache/xfer
    python tools/pack_dataset.py unpack cache/xfer cache/dataset-v3.npz
"""

from __future__ import annotations

import argparse
import lzma
import zipfile
from pathlib import Path

import numpy as np

_NAN = -32768


def pack(dataset: Path, out: Path) -> None:
    """Write frames.i16d.xz, rest.npz and embeddings.npz into `out`."""
    from actzero.training.dataset import load_dataset
    from actzero.training.train import embed_class_texts

    out.mkdir(parents=True, exist_ok=True)
    with np.load(dataset, allow_pickle=False) as z:
        frames = z["frames"]
        rest = {k: z[k] for k in z.files if k != "frames"}
    q = np.where(np.isnan(frames), _NAN, np.clip(np.round(frames * 1000), -32767, 32767)).astype(np.int16)
    delta = q.copy()
    delta[1:] = q[1:] - q[:-1]  # int16 wrap-around is undone by the wrapping cumulative sum
    (out / "frames.i16d.xz").write_bytes(lzma.compress(delta.tobytes(), preset=1))
    np.savez_compressed(out / "rest.npz", frames_shape=np.array(frames.shape), **rest)
    classes = load_dataset(dataset).classes
    embeddings, _ = embed_class_texts([list(c.descriptions) for c in classes])
    np.savez(out / "embeddings.npz", **{f"c{i}": e for i, e in enumerate(embeddings)})


def unpack(packed: Path, dataset: Path) -> None:
    """Rebuild the data set .npz from `packed`."""
    rest = dict(np.load(packed / "rest.npz", allow_pickle=False))
    shape = tuple(int(x) for x in rest.pop("frames_shape"))
    delta = np.frombuffer(lzma.decompress((packed / "frames.i16d.xz").read_bytes()), dtype=np.int16)
    q = np.cumsum(delta.reshape(shape).astype(np.int32), axis=0).astype(np.int16)
    frames = np.where(q == _NAN, np.nan, q.astype(np.float32) / 1000).astype(np.float32)
    dataset.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(dataset, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as archive:
        for name, array in [("frames", frames), *rest.items()]:
            with archive.open(name + ".npy", "w", force_zip64=True) as handle:
                np.lib.format.write_array(handle, np.asarray(array), allow_pickle=False)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("action", choices=("pack", "unpack"))
    parser.add_argument("source", type=Path)
    parser.add_argument("target", type=Path)
    args = parser.parse_args()
    (pack if args.action == "pack" else unpack)(args.source, args.target)


if __name__ == "__main__":
    main()
