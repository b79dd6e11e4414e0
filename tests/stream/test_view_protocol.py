"""The view message (a frame's picture for live viewers): round trip and refusal of malformed ones."""

import json

import cv2
import numpy as np
import pytest

from actzero.stream.capture import SAMPLE_VIDEO
from actzero.stream.protocol import (
    MAX_VIEW_MESSAGE_BYTES,
    ProtocolError,
    ViewFrame,
    decode_view_frame,
    encode_view_frame,
    jpeg_size,
)
from actzero.stream.publisher import view_picture


@pytest.fixture(scope="module")
def picture() -> np.ndarray:
    """The sample video's first frame (1768 x 994), downscaled as the publisher does (640 wide)."""
    capture = cv2.VideoCapture(str(SAMPLE_VIDEO))
    ok, image = capture.read()
    capture.release()
    assert ok
    return view_picture(image, 640)


def make_view(picture: np.ndarray | None) -> ViewFrame:
    return ViewFrame("cam0", 812, 790, 1_795_317_306.9, 1768, 994, 22, picture)


def with_header(parts: list[bytes], **changes) -> list[bytes]:
    header = json.loads(parts[1])
    header.update(changes)
    return [parts[0], json.dumps(header).encode(), parts[2]]


def test_round_trip_keeps_the_fields_and_the_picture(picture):
    parts = encode_view_frame(make_view(picture))
    assert parts[0] == b"view/cam0" and parts[2][:2] == b"\xff\xd8"
    assert max(len(p) for p in parts) <= MAX_VIEW_MESSAGE_BYTES
    header = json.loads(parts[1])
    assert header["version"] == 1 and header["encoding"] == "jpeg"
    view = decode_view_frame(parts)
    fields = (view.source, view.index, view.sequence, view.capture_ts, view.width, view.height, view.dropped)
    assert fields == ("cam0", 812, 790, 1_795_317_306.9, 1768, 994, 22)
    assert view.picture.shape == picture.shape and view.picture.dtype == np.uint8
    error = np.abs(view.picture.astype(np.int16) - picture).mean()
    assert error < 4.0, error  # JPEG is lossy, but the picture is the camera's
    assert jpeg_size(parts[2]) == (640, picture.shape[0])


def test_a_view_without_a_picture_round_trips_as_counters_only():
    parts = encode_view_frame(make_view(None))
    assert parts[2] == b"" and json.loads(parts[1])["encoding"] == "none"
    view = decode_view_frame(parts)
    assert view.picture is None and (view.sequence, view.dropped) == (790, 22)


def _huge_jpeg_header(parts: list[bytes]) -> list[bytes]:
    """The same JPEG, its start-of-frame segment claiming 60000 x 60000 pixels (10 GB decoded)."""
    data = bytearray(parts[2])
    at = 2
    while data[at + 1] not in (0xC0, 0xC2):
        at += 2 + int.from_bytes(data[at + 2 : at + 4], "big")
    data[at + 5 : at + 9] = (60000).to_bytes(2, "big") * 2
    return [parts[0], parts[1], bytes(data)]


@pytest.mark.parametrize(
    ("mutate", "reason"),
    [
        (lambda p: p[:2], "expected 3 view message parts"),
        (lambda p: [*p, b""], "expected 3 view message parts"),
        (lambda p: [p[0], b"{not json", p[2]], "not valid JSON"),
        (lambda p: [p[0], p[1], "text"], "must be bytes"),
        (lambda p: with_header(p, version=2), "unknown view message version"),
        (lambda p: with_header(p, extra=1), "unexpected ['extra']"),
        (lambda p: with_header(p, sequence=-1), "sequence=-1 is out of range"),
        (lambda p: with_header(p, dropped=1.5), "dropped must be int"),
        (lambda p: with_header(p, encoding="png"), "encoding must be one of"),
        (lambda p: with_header(p, source="cam1"), "does not match source"),
        (lambda p: with_header(p, encoding="none"), "encoding 'none' but the picture part has"),
        (lambda p: [b"pose/cam0", *p[1:]], "does not match source"),
        (lambda p: [p[0], p[1], b""], "not a JPEG"),
        (lambda p: [p[0], p[1], b"\x89PNG\r\n\x1a\n" + p[2][8:]], "not a JPEG"),
        (lambda p: [p[0], p[1], p[2][:200]], "picture is not"),
        (lambda p: [p[0], p[1], p[2][:2] + b"\x00" * 64], "no marker at byte 2"),
        (lambda p: [p[0], p[1], b"\xff\xd8" + b"\x00" * (4 * 1024 * 1024)], "exceeds"),
        (_huge_jpeg_header, "60000x60000 exceeds 4096"),
    ],
)
def test_malformed_view_messages_are_refused_with_a_reason(picture, mutate, reason):
    parts = encode_view_frame(make_view(picture))
    with pytest.raises(ProtocolError) as error:
        decode_view_frame(mutate(parts))
    assert reason in str(error.value)


def test_encoder_refuses_a_picture_that_is_not_bgr_uint8(picture):
    with pytest.raises(ProtocolError, match="must be \\(h, w, 3\\) uint8"):
        encode_view_frame(make_view(picture[..., 0]))
