"""Action results: what the worker yields per classified window, and their wire format.

A result travels as a two-part ZeroMQ message: the topic ``result/<source>`` (UTF-8)
and one UTF-8 JSON object (schema in docs/protocol.md, section "Results").
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field

from actzero.stream.protocol import json_object

RESULT_VERSION = 1
RESULT_TOPIC_PREFIX = "result/"
MAX_RESULT_BYTES = 64 * 1024
TIMING_STAGES = ("map", "canonicalise", "model", "total")


class ResultError(ValueError):
    """A result message that does not follow the schema."""


@dataclass(frozen=True)
class ActionResult:
    """The decision for one window of one tracked person.

    Attributes:
        source: the pose stream the person was seen in.
        track: the person's track id (stable within the source while tracked).
        start_ts, end_ts: capture timestamps (seconds since the epoch) of the window's first/last frame.
        start_index, end_index: source frame indices of the window's first/last frame.
        frames: number of resampled frames observed in the window (less than the window when padded).
        label: the recognised action, or None for "no action".
        score: the (smoothed) probability of the best class.
        top_k: best classes with their smoothed probabilities, best first.
        timings_ms: per-stage processing times: "map", "canonicalise", "model", "total".
        latency_ms: from the capture of the window's last frame to when the result was made; None
            when the frames are on the media clock (batch: a video's time, not a capture time).
    """

    source: str
    track: int
    start_ts: float
    end_ts: float
    start_index: int
    end_index: int
    frames: int
    label: str | None
    score: float
    top_k: list[tuple[str, float]]
    timings_ms: dict[str, float] = field(default_factory=dict)
    latency_ms: float | None = None

    def to_json(self) -> dict:
        """The result as a JSON-ready dict (the wire schema, with the version)."""
        data = asdict(self)
        data["top_k"] = [[name, float(p)] for name, p in self.top_k]
        return {"v": RESULT_VERSION, **data}


def encode_result(result: ActionResult) -> list[bytes]:
    """Encode a result as the two message parts [topic, json]."""
    topic = (RESULT_TOPIC_PREFIX + result.source).encode()
    body = json.dumps(result.to_json(), separators=(",", ":"), allow_nan=False).encode()
    return [topic, body]


def decode_result(parts: list[bytes]) -> ActionResult:
    """Decode and validate the parts of a result message.

    Raises:
        ResultError: malformed, oversized or wrongly typed message.
    """
    if len(parts) != 2:
        raise ResultError(f"expected 2 message parts, got {len(parts)}")
    topic, body = parts
    data = json_object(body, MAX_RESULT_BYTES, "result", ResultError)
    if data.get("v") != RESULT_VERSION:
        raise ResultError(f"unsupported result version {data.get('v')!r}")
    try:
        result = ActionResult(
            source=_typed(data, "source", str),
            track=_typed(data, "track", int),
            start_ts=_number(data, "start_ts"),
            end_ts=_number(data, "end_ts"),
            start_index=_typed(data, "start_index", int),
            end_index=_typed(data, "end_index", int),
            frames=_typed(data, "frames", int),
            label=None if data.get("label") is None else _typed(data, "label", str),
            score=_number(data, "score"),
            top_k=[_pair(item) for item in _typed(data, "top_k", list)],
            timings_ms={k: _number(_typed(data, "timings_ms", dict), k) for k in data["timings_ms"]},
            latency_ms=None if data["latency_ms"] is None else _number(data, "latency_ms"),
        )
    except KeyError as exc:
        raise ResultError(f"missing field {exc}") from None
    if topic != (RESULT_TOPIC_PREFIX + result.source).encode():
        raise ResultError(f"topic {topic[:80]!r} does not match source {result.source!r}")
    return result


def _typed(data: dict, key: str, kind: type):
    value = data[key]
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise ResultError(f"field {key!r} must be {kind.__name__}, got {type(value).__name__}")
    return value


def _number(data: dict, key: str) -> float:
    value = data[key]
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ResultError(f"field {key!r} must be a finite number")
    return float(value)


def _pair(item: object) -> tuple[str, float]:
    if not (isinstance(item, list) and len(item) == 2 and isinstance(item[0], str)):
        raise ResultError("top_k items must be [name, probability]")
    return item[0], _number({"p": item[1]}, "p")
