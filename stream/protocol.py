"""The pose wire format: one ZeroMQ multipart message per video frame (see docs/protocol.md).

Parts: ``[topic, header, image, world, visibility]``::

    topic       b"pose/<source>"
    header      UTF-8 JSON object (exact fields below)
    image       P*33*3 float32 little-endian  (P, 33, 3)
    world       P*33*3 float32 little-endian  (P, 33, 3)
    visibility  P*33   float32 little-endian  (P, 33)

A second, separate message carries a picture of each frame for live viewers (``view/<source>``:
``encode_view_frame`` / ``decode_view_frame``, at the end of this module).

The decoders trust nothing: any malformed or hostile message raises :class:`ProtocolError` with
the reason, and nothing in a message is ever executed (JSON + raw floats only).
"""

from __future__ import annotations

import json
import math
import re
import reprlib
from dataclasses import dataclass
from typing import Any

import numpy as np

from actzero.stream.frames import NUM_LANDMARKS, PoseFrame

VERSION = 1
TOPIC_PREFIX = b"pose/"
DTYPE = "<f4"
MAX_PERSONS = 16
MAX_IMAGE_SIDE = 32768
MAX_SOURCE_CHARS = 64
MAX_HEADER_BYTES = 4096
MAX_INDEX = 2**53  # JSON numbers stay exact below this
# The largest valid part: an array of MAX_PERSONS poses, or the header. For a socket's
# zmq.MAXMSGSIZE option, which libzmq applies to each part of a multipart message.
MAX_MESSAGE_BYTES = max(MAX_PERSONS * NUM_LANDMARKS * 3 * 4, MAX_HEADER_BYTES)
NUM_PARTS = 5

_SOURCE_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
_HEADER_FIELDS: dict[str, type] = {
    "version": int,
    "source": str,
    "index": int,
    "capture_ts": float,
    "width": int,
    "height": int,
    "persons": int,
    "dtype": str,
    "shapes": dict,
}
_ARRAYS = ("image", "world", "visibility")


class ProtocolError(ValueError):
    """A message is not a valid pose frame; the message says why."""


def json_object(raw: bytes, max_bytes: int, what: str, error: type[ValueError]) -> dict[str, Any]:
    """Parse a size-bounded JSON object received from a socket (control requests, results).

    Raises:
        error: "<what> of N bytes exceeds M", "<what> is not JSON: ...", "<what> must be a JSON object".
    """
    if len(raw) > max_bytes:
        raise error(f"{what} of {len(raw)} bytes exceeds {max_bytes}")
    try:
        data = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise error(f"{what} is not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise error(f"{what} must be a JSON object")
    return data


def topic_for(source: str) -> bytes:
    """The topic of a source's messages (subscribe to ``TOPIC_PREFIX`` for all sources)."""
    return TOPIC_PREFIX + source.encode("ascii")


def safe_source_name(name: str) -> str:
    """Turn any name (a file stem, a camera name) into a valid source id: ``[A-Za-z0-9._-]``, <= 64 chars."""
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "-", name).lstrip("._-")[:MAX_SOURCE_CHARS]
    return cleaned or "source"


def _shapes(persons: int) -> dict[str, list[int]]:
    return {
        "image": [persons, NUM_LANDMARKS, 3],
        "world": [persons, NUM_LANDMARKS, 3],
        "visibility": [persons, NUM_LANDMARKS],
    }


def encode_pose_frame(frame: PoseFrame) -> list[bytes]:
    """Serialise a pose frame into the five message parts.

    Raises:
        ProtocolError: the frame itself is invalid (the same checks as decoding).
    """
    persons = frame.num_persons
    arrays = {
        "image": np.asarray(frame.image, dtype=DTYPE),
        "world": np.asarray(frame.world, dtype=DTYPE),
        "visibility": np.asarray(frame.visibility, dtype=DTYPE),
    }
    header = {
        "version": VERSION,
        "source": frame.source,
        "index": int(frame.index),
        "capture_ts": float(frame.capture_ts),
        "width": int(frame.width),
        "height": int(frame.height),
        "persons": persons,
        "dtype": DTYPE,
        "shapes": _shapes(persons),
    }
    _check_header(header)
    for name, array in arrays.items():
        if list(array.shape) != header["shapes"][name]:
            raise ProtocolError(f"{name} has shape {array.shape}, expected {tuple(header['shapes'][name])}")
        _check_values(name, array)
    header_bytes = json.dumps(header, separators=(",", ":"), allow_nan=False).encode("utf-8")
    return [topic_for(frame.source), header_bytes, *(arrays[name].tobytes() for name in _ARRAYS)]


def _message_parts(parts: list[bytes], count: int, kind: str) -> list[bytes]:
    """The `count` parts of a received multipart message as bytes (`kind`: "" or "view ", for errors).

    Raises:
        ProtocolError: not a list, another number of parts, or a part that is not bytes-like.
    """
    if not isinstance(parts, list | tuple):
        raise ProtocolError(f"expected a list of message parts, got {type(parts).__name__}")
    if len(parts) != count:
        raise ProtocolError(f"expected {count} {kind}message parts, got {len(parts)}")
    try:
        return [bytes(memoryview(part)) for part in parts]
    except TypeError as error:
        raise ProtocolError(f"message parts must be bytes: {error}") from None


def decode_pose_frame(parts: list[bytes]) -> PoseFrame:
    """Parse and validate the five message parts of one pose frame.

    Args:
        parts: the multipart message as received (bytes-like parts).

    Raises:
        ProtocolError: wrong part count, bad JSON, unknown version, missing/extra/mistyped
            header fields, a topic that does not match, size mismatches, non-finite or
            out-of-range values, absurd sizes.
    """
    topic, header_bytes, *array_bytes = _message_parts(parts, NUM_PARTS, "")
    header = _parse_header(header_bytes)
    _check_header(header)
    if topic != topic_for(header["source"]):
        raise ProtocolError(f"topic {topic[:80]!r} does not match source {header['source']!r}")
    arrays = {}
    shapes = _shapes(header["persons"])
    for name, data in zip(_ARRAYS, array_bytes, strict=True):
        shape = tuple(shapes[name])
        expected = math.prod(shape) * 4
        if len(data) != expected:
            raise ProtocolError(f"{name} part has {len(data)} bytes, expected {expected} for shape {shape}")
        array = np.frombuffer(data, dtype=DTYPE).reshape(shape).astype(np.float32)
        _check_values(name, array)
        arrays[name] = array
    return PoseFrame(
        source=header["source"],
        index=header["index"],
        capture_ts=header["capture_ts"],
        width=header["width"],
        height=header["height"],
        **arrays,
    )


def _short(value: Any) -> str:
    return reprlib.repr(value)  # bounded in length and depth, whatever a message holds


def _reject_constant(name: str) -> Any:
    raise ProtocolError(f"header holds the non-finite number {name}")


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        raise ProtocolError("header repeats a key")
    return result


def _parse_header(data: bytes) -> dict[str, Any]:
    if len(data) > MAX_HEADER_BYTES:
        raise ProtocolError(f"header has {len(data)} bytes, more than {MAX_HEADER_BYTES}")
    try:
        header = json.loads(
            data.decode("utf-8"), parse_constant=_reject_constant, object_pairs_hook=_unique_keys
        )
    except UnicodeDecodeError as error:
        raise ProtocolError(f"header is not UTF-8: {error}") from None
    except ProtocolError:
        raise
    except (ValueError, RecursionError) as error:  # JSONDecodeError is a ValueError
        raise ProtocolError(f"header is not valid JSON: {error}") from None
    if not isinstance(header, dict):
        raise ProtocolError(f"header must be a JSON object, got {type(header).__name__}")
    return header


def _check_int(header: dict[str, Any], name: str, low: int, high: int) -> None:
    value = header[name]
    if not low <= value <= high:
        raise ProtocolError(f"header field {name}={value} is out of range [{low}, {high}]")


def _check_common(header: dict[str, Any], fields: dict[str, type], version: int, what: str) -> None:
    """The checks every message header shares: its fields and their types, version, source, time."""
    missing = sorted(set(fields) - set(header))
    extra = sorted(set(header) - set(fields))
    if missing or extra:
        raise ProtocolError(f"header fields: missing {missing}, unexpected {extra[:8]}")
    if type(header["version"]) is not int or header["version"] != version:
        raise ProtocolError(
            f"unknown {what} version {_short(header['version'])} (this decoder reads {version})"
        )
    for name, kind in fields.items():
        value = header[name]
        if kind is float and type(value) is int:  # JSON writes 1.0 as 1.0, but be lenient with ints
            header[name] = value = float(value)
        if type(value) is not kind:
            raise ProtocolError(f"header field {name} must be {kind.__name__}, got {type(value).__name__}")
    source = header["source"]
    if len(source) > MAX_SOURCE_CHARS or not _SOURCE_PATTERN.fullmatch(source):
        raise ProtocolError(
            f"source {_short(source)} must be 1-{MAX_SOURCE_CHARS} characters of A-Z a-z 0-9 . _ - "
            "(starting with a letter or digit)"
        )
    if not math.isfinite(header["capture_ts"]) or header["capture_ts"] < 0:
        raise ProtocolError(f"capture_ts must be a finite time >= 0, got {header['capture_ts']}")


def _check_header(header: dict[str, Any]) -> None:
    _check_common(header, _HEADER_FIELDS, VERSION, "protocol")
    _check_int(header, "index", 0, MAX_INDEX)
    _check_int(header, "width", 1, MAX_IMAGE_SIDE)
    _check_int(header, "height", 1, MAX_IMAGE_SIDE)
    _check_int(header, "persons", 0, MAX_PERSONS)
    if header["dtype"] != DTYPE:
        raise ProtocolError(f"dtype must be {DTYPE!r}, got {_short(header['dtype'])}")
    if header["shapes"] != _shapes(header["persons"]):
        raise ProtocolError(f"shapes do not match {header['persons']} persons: {_short(header['shapes'])}")


def _check_values(name: str, array: np.ndarray) -> None:
    if not np.isfinite(array).all():
        raise ProtocolError(f"{name} holds non-finite values")
    if name == "visibility" and array.size and (array.min() < 0.0 or array.max() > 1.0):
        raise ProtocolError("visibility values must lie in [0, 1]")


# --- The view message: a downscaled JPEG of each frame, for a live window (docs/protocol.md) ---
#
# Parts: ``[topic, header, picture]``: topic ``b"view/<source>"``, a JSON header, and the frame as a
# JPEG (empty when the publisher sends no pictures, e.g. for a headless viewer). It travels on its
# own socket, so the pose messages stay small and a slow viewer loses pictures, never poses.

VIEW_VERSION = 1
VIEW_TOPIC_PREFIX = b"view/"
VIEW_NUM_PARTS = 3
VIEW_ENCODINGS = ("jpeg", "none")
MAX_VIEW_SIDE = 4096
MAX_VIEW_PICTURE_BYTES = 4 * 1024 * 1024
MAX_VIEW_MESSAGE_BYTES = max(MAX_VIEW_PICTURE_BYTES, MAX_HEADER_BYTES)  # for zmq.MAXMSGSIZE
MAX_COUNT = 2**53
_VIEW_HEADER_FIELDS: dict[str, type] = {
    "version": int,
    "source": str,
    "index": int,
    "sequence": int,
    "capture_ts": float,
    "width": int,
    "height": int,
    "dropped": int,
    "encoding": str,
}
# JPEG start-of-frame markers (baseline, progressive, lossless, arithmetic): they carry the size.
_JPEG_SOF_MARKERS = frozenset({0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF})


@dataclass(frozen=True)
class ViewFrame:
    """One frame's picture for a viewer, with the publisher's counters.

    Attributes:
        source: the stream's id (as in the pose frames).
        index: the frame's index within the source; equals the index of its pose frame.
        sequence: 0, 1, 2, ... per view message sent; a gap means pictures the viewer never got.
        capture_ts: wall-clock capture time (time.time()), as in the pose frame.
        width, height: the captured frame's size in pixels (the picture may be smaller).
        dropped: frames the source dropped so far because the pose process was busy.
        picture: (h, w, 3) uint8 BGR, or None when the publisher sends no pictures.
    """

    source: str
    index: int
    sequence: int
    capture_ts: float
    width: int
    height: int
    dropped: int
    picture: np.ndarray | None


def view_topic_for(source: str) -> bytes:
    """The topic of a source's view messages (subscribe to ``VIEW_TOPIC_PREFIX`` for all)."""
    return VIEW_TOPIC_PREFIX + source.encode("ascii")


def encode_view_frame(view: ViewFrame, quality: int = 80) -> list[bytes]:
    """Serialise a view frame into its three message parts (the picture as a JPEG of `quality`).

    Raises:
        ProtocolError: a header field is invalid, or the picture is not (h, w, 3) uint8 within
            ``MAX_VIEW_SIDE`` or its JPEG exceeds ``MAX_VIEW_PICTURE_BYTES``.
    """
    import cv2

    header = {
        "version": VIEW_VERSION,
        "source": view.source,
        "index": int(view.index),
        "sequence": int(view.sequence),
        "capture_ts": float(view.capture_ts),
        "width": int(view.width),
        "height": int(view.height),
        "dropped": int(view.dropped),
        "encoding": "none" if view.picture is None else "jpeg",
    }
    _check_view_header(header)
    picture = b""
    if view.picture is not None:
        image = view.picture
        if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
            raise ProtocolError(f"picture must be (h, w, 3) uint8, got {image.shape} {image.dtype}")
        if min(image.shape[:2]) < 1 or max(image.shape[:2]) > MAX_VIEW_SIDE:
            raise ProtocolError(
                f"picture of {image.shape[1]}x{image.shape[0]} exceeds {MAX_VIEW_SIDE} pixels"
            )
        ok, jpeg = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
        if not ok:
            raise ProtocolError("the picture could not be encoded as JPEG")
        picture = jpeg.tobytes()
        if len(picture) > MAX_VIEW_PICTURE_BYTES:
            raise ProtocolError(f"picture JPEG of {len(picture)} bytes exceeds {MAX_VIEW_PICTURE_BYTES}")
    header_bytes = json.dumps(header, separators=(",", ":"), allow_nan=False).encode("utf-8")
    return [view_topic_for(view.source), header_bytes, picture]


def decode_view_frame(parts: list[bytes]) -> ViewFrame:
    """Parse and validate the three parts of a view message, decoding its JPEG.

    Memory stays bounded on hostile input: the JPEG's declared size is read from its header and
    checked before anything is decoded.

    Raises:
        ProtocolError: wrong part count, a bad header (as for pose frames, with the view fields),
            a topic that does not match, a picture that is missing, present with encoding "none",
            too large, not a JPEG or not decodable.
    """
    import cv2

    topic, header_bytes, picture = _message_parts(parts, VIEW_NUM_PARTS, "view ")
    header = _parse_header(header_bytes)
    _check_view_header(header)
    if topic != view_topic_for(header["source"]):
        raise ProtocolError(f"topic {topic[:80]!r} does not match source {header['source']!r}")
    image = None
    if header["encoding"] == "none":
        if picture:
            raise ProtocolError(f"encoding 'none' but the picture part has {len(picture)} bytes")
    else:
        if len(picture) > MAX_VIEW_PICTURE_BYTES:
            raise ProtocolError(f"picture of {len(picture)} bytes exceeds {MAX_VIEW_PICTURE_BYTES}")
        width, height = jpeg_size(picture)
        if not (1 <= width <= MAX_VIEW_SIDE and 1 <= height <= MAX_VIEW_SIDE):
            raise ProtocolError(f"picture of {width}x{height} exceeds {MAX_VIEW_SIDE} pixels a side")
        image = cv2.imdecode(np.frombuffer(picture, np.uint8), cv2.IMREAD_COLOR)
        if image is None or image.shape[:2] != (height, width):
            raise ProtocolError("picture is not a decodable JPEG")
    return ViewFrame(
        source=header["source"],
        index=header["index"],
        sequence=header["sequence"],
        capture_ts=header["capture_ts"],
        width=header["width"],
        height=header["height"],
        dropped=header["dropped"],
        picture=image,
    )


def jpeg_size(data: bytes) -> tuple[int, int]:
    """(width, height) that a JPEG declares in its start-of-frame segment, without decoding it.

    Raises:
        ProtocolError: the data is not a JPEG, or ends before its start-of-frame segment.
    """
    if data[:2] != b"\xff\xd8":
        raise ProtocolError("picture is not a JPEG (no start-of-image marker)")
    at = 2
    while at + 4 <= len(data):
        if data[at] != 0xFF:
            raise ProtocolError(f"picture is not a valid JPEG (no marker at byte {at})")
        marker = data[at + 1]
        if marker == 0xFF:  # fill byte
            at += 1
            continue
        if marker in (0x01, *range(0xD0, 0xD8)):  # markers without a length
            at += 2
            continue
        if marker in (0xD9, 0xDA):  # end of image, start of scan: no size seen before them
            break
        length = int.from_bytes(data[at + 2 : at + 4], "big")
        if length < 2:
            raise ProtocolError(f"picture is not a valid JPEG (segment length {length} at byte {at})")
        if marker in _JPEG_SOF_MARKERS:
            if at + 9 > len(data):
                break
            height = int.from_bytes(data[at + 5 : at + 7], "big")
            width = int.from_bytes(data[at + 7 : at + 9], "big")
            return width, height
        at += 2 + length
    raise ProtocolError("picture is not a valid JPEG (no start-of-frame segment)")


def _check_view_header(header: dict[str, Any]) -> None:
    _check_common(header, _VIEW_HEADER_FIELDS, VIEW_VERSION, "view message")
    for name in ("index", "sequence", "dropped"):
        _check_int(header, name, 0, MAX_COUNT)
    _check_int(header, "width", 1, MAX_IMAGE_SIDE)
    _check_int(header, "height", 1, MAX_IMAGE_SIDE)
    if header["encoding"] not in VIEW_ENCODINGS:
        raise ProtocolError(
            f"encoding must be one of {list(VIEW_ENCODINGS)}, got {_short(header['encoding'])}"
        )
