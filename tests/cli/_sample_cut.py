"""A short cut of the bundled sample video, written with OpenCV (shared by the CLI tests)."""

from pathlib import Path

from actzero.stream.capture import SAMPLE_VIDEO


def write_sample_cut(path: Path, seconds: float = 2.0, scale: float = 0.5) -> Path:
    """Write the first `seconds` of the sample video, resized by `scale`, to `path` (mp4)."""
    import cv2

    capture = cv2.VideoCapture(str(SAMPLE_VIDEO))
    fps = capture.get(cv2.CAP_PROP_FPS)
    size = (
        int(capture.get(cv2.CAP_PROP_FRAME_WIDTH) * scale),
        int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT) * scale),
    )
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, size)
    for _ in range(int(seconds * fps)):
        ok, image = capture.read()
        assert ok
        writer.write(cv2.resize(image, size))
    writer.release()
    capture.release()
    return path
