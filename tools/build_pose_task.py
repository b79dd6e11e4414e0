"""Build stream/assets/pose_landmarker_full.task from the mediapipe 0.10.21 wheel.

MediaPipe >= 0.10.30 ships no pose model and actzero must not download one at run time, so the
task file is built once from the two Apache-2.0 TFLite models inside the 0.10.21 wheel and
committed. Steps:

1. take ``mediapipe/modules/pose_detection/pose_detection.tflite`` and
   ``mediapipe/modules/pose_landmark/pose_landmark_full.tflite`` from the wheel;
2. add the image-normalisation metadata that the Tasks API reads (detector: mean 127.5,
   std 127.5, two outputs; landmark model: mean 0, std 255, five outputs) with mediapipe's own
   metadata writer;
3. zip them, stored uncompressed and 4-byte aligned, as ``pose_detector.tflite`` and
   ``pose_landmarks_detector.tflite``: the layout PoseLandmarker expects.

The metadata writer of mediapipe 1.x imports ``_pywrap_metadata_version``, a native module the
1.x wheels no longer ship. It only computes the metadata's minimum parser version; the stub
below returns "1.0.0", the version that 0.10.21's native module reports for exactly this
metadata (image properties + normalisation, no newer schema features).

Usage (needs the registry once, at build time only)::

    python tools/build_pose_task.py                  # runs `pip download` itself
    python tools/build_pose_task.py --wheel /tmp/mp021/mediapipe-0.10.21-....whl

A build tool, not part of the installed package: run it from a checkout with actzero importable.
"""

from __future__ import annotations

import argparse
import gc
import subprocess
import sys
import tempfile
import types
import zipfile
from pathlib import Path

from actzero.stream.pose import POSE_TASK

WHEEL_VERSION = "0.10.21"
DETECTOR_MEMBER = "mediapipe/modules/pose_detection/pose_detection.tflite"
LANDMARKER_MEMBER = "mediapipe/modules/pose_landmark/pose_landmark_full.tflite"
DEFAULT_OUTPUT = POSE_TASK  # the task file the runtime loads
MIN_PARSER_VERSION = "1.0.0"
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)  # fixed timestamps: the same inputs give the same bytes
_ALIGNMENT = 4


def _install_metadata_version_stub() -> None:
    """Provide the native ``_pywrap_metadata_version`` module that mediapipe 1.x lacks."""
    name = "mediapipe.tasks.cc.metadata.python"
    if name in sys.modules:
        return
    stub = types.ModuleType(f"{name}._pywrap_metadata_version")
    stub.GetMinimumMetadataParserVersion = lambda _metadata_buf: MIN_PARSER_VERSION
    package = types.ModuleType(name)
    package._pywrap_metadata_version = stub
    sys.modules[name] = package
    sys.modules[stub.__name__] = stub


def add_metadata(model: bytes, name: str, mean: float, std: float, num_outputs: int) -> bytes:
    """Return ``model`` with an RGB image input normalised as (pixel - mean) / std.

    Args:
        model: the TFLite flatbuffer without metadata.
        name: the model name stored in the metadata.
        mean: normalisation mean, broadcast to the three channels.
        std: normalisation standard deviation.
        num_outputs: how many output tensors the model has (each gets a plain feature entry).
    """
    _install_metadata_version_stub()
    from mediapipe.tasks.python.metadata.metadata_writers import metadata_writer

    writer = metadata_writer.MetadataWriter.create(bytearray(model))
    writer.add_general_info(name, f"{name} from mediapipe {WHEEL_VERSION} (Apache-2.0)")
    writer.add_image_input(norm_mean=[mean], norm_std=[std])
    for _ in range(num_outputs):
        writer.add_feature_output()
    content, _json = writer.populate()
    del writer  # its __del__ cleans a temporary folder: run it now, not at interpreter exit
    gc.collect()
    return bytes(content)


def write_task(models: dict[str, bytes], output: Path) -> None:
    """Write ``models`` as mediapipe's model asset bundle: stored, 4-byte aligned, fixed timestamps."""
    from mediapipe.tasks.python.metadata.metadata_writers import model_asset_bundle_utils

    output.parent.mkdir(parents=True, exist_ok=True)
    with model_asset_bundle_utils.AlignZipFile(output, mode="w", alignment=_ALIGNMENT) as bundle:
        for member, data in models.items():
            bundle.writestr(zipfile.ZipInfo(member, date_time=_ZIP_DATE), data)


def build(wheel: Path, output: Path = DEFAULT_OUTPUT) -> Path:
    """Build the PoseLandmarker task file from a mediapipe 0.10.21 wheel and return its path."""
    with zipfile.ZipFile(wheel) as wheel_zip:
        detector = wheel_zip.read(DETECTOR_MEMBER)
        landmarker = wheel_zip.read(LANDMARKER_MEMBER)
    models = {
        "pose_detector.tflite": add_metadata(detector, "PoseDetector", 127.5, 127.5, 2),
        "pose_landmarks_detector.tflite": add_metadata(landmarker, "PoseLandmarksDetector", 0.0, 255.0, 5),
    }
    write_task(models, output)
    return output


def download_wheel(directory: Path) -> Path:
    """Fetch the mediapipe 0.10.21 wheel with pip (build time only) and return its path."""
    # Only the data inside is used, so pin one wheel that exists whatever Python runs this.
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:"]
    command += ["--python-version", "3.11", "--platform", "manylinux_2_28_x86_64"]
    subprocess.run([*command, f"mediapipe=={WHEEL_VERSION}", "-d", str(directory)], check=True)
    return next(directory.glob(f"mediapipe-{WHEEL_VERSION}-*.whl"))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wheel", type=Path, help=f"mediapipe {WHEEL_VERSION} wheel (default: pip download)")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="task file to write")
    args = parser.parse_args(argv)
    if args.wheel is not None:
        path = build(args.wheel, args.output)
    else:
        with tempfile.TemporaryDirectory() as tmp:
            path = build(download_wheel(Path(tmp)), args.output)
    print(f"wrote {path} ({path.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
