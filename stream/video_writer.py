"""Writing annotated videos that browsers play: H.264 in MP4 through PyAV, else OpenCV's MPEG-4.

The OpenCV wheels cannot encode H.264 (no OpenH264/x264 in their FFmpeg), and their VP9/VP8
encoders took 0.4-1.5 s per 1768x994 frame here (docs/reliability.md). PyAV's wheels bundle FFmpeg
with libx264, so ``pip install 'actzero[video]'`` (the `av` package) gives H.264 files; without
it the writer falls back to OpenCV's MPEG-4 Part 2 ("mp4v"), which desktop players show but
browsers do not, and says so through :attr:`VideoWriter.note`.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from types import TracebackType
from typing import Self

import numpy as np

H264 = "h264"
MPEG4 = "mpeg4"
FALLBACK_NOTE = (
    "wrote MPEG-4 Part 2 (browsers do not play it): install the 'av' package "
    "(pip install 'actzero[video]') for H.264"
)


class VideoWriter:
    """An open video file: write BGR frames of one size, then close.

    Use it as a context manager. ``codec`` is "h264" or "mpeg4"; ``note`` is a one-line remark
    for the user when the file is not browser-playable (None otherwise).
    """

    def __init__(self, path: Path, fps: float, width: int, height: int) -> None:
        """Open `path` (an .mp4) for writing: H.264 when PyAV is installed, else MPEG-4 Part 2.

        Raises:
            OSError: the file cannot be written.
        """
        self.path = Path(path)
        # H.264 in 4:2:0 needs even sizes: an odd last row / column is dropped.
        self.width, self.height = width - width % 2, height - height % 2
        self.note: str | None = None
        self._container = self._stream = self._cv_writer = None
        try:
            import av
        except ImportError:
            av = None
        if av is not None:
            self.codec = H264
            self._av = av
            try:
                self._container = av.open(
                    str(self.path), "w", format="mp4", options={"movflags": "+faststart"}
                )
            except av.FFmpegError as exc:
                raise OSError(f"cannot write video {self.path}: {exc}") from None
            self._stream = self._container.add_stream("libx264", rate=Fraction(fps).limit_denominator(1001))
            self._stream.width, self._stream.height = self.width, self.height
            self._stream.pix_fmt = "yuv420p"
            self._stream.options = {"preset": "veryfast", "crf": "23"}
        else:
            import cv2

            self.codec = MPEG4
            self.note = FALLBACK_NOTE
            self._cv_writer = cv2.VideoWriter(
                str(self.path), cv2.VideoWriter_fourcc(*"mp4v"), fps, (self.width, self.height)
            )
            if not self._cv_writer.isOpened():
                raise OSError(f"cannot write video {self.path}")

    def write(self, image: np.ndarray) -> None:
        """Append one (H, W, 3) uint8 BGR frame of the size given at opening."""
        image = np.ascontiguousarray(image[: self.height, : self.width])
        if self._cv_writer is not None:
            self._cv_writer.write(image)
            return
        frame = self._av.VideoFrame.from_ndarray(image, format="bgr24")
        for packet in self._stream.encode(frame):
            self._container.mux(packet)

    def close(self) -> None:
        """Flush the encoder and close the file (idempotent)."""
        if self._cv_writer is not None:
            self._cv_writer.release()
            self._cv_writer = None
        if self._container is not None:
            try:
                for packet in self._stream.encode():
                    self._container.mux(packet)
            finally:
                self._container.close()
                self._container = None

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
