import json

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from actzero.stream.frames import NUM_LANDMARKS, PoseFrame
from actzero.stream.protocol import (
    MAX_MESSAGE_BYTES,
    MAX_PERSONS,
    ProtocolError,
    decode_pose_frame,
    encode_pose_frame,
    safe_source_name,
)


def make_frame(persons: int = 2, seed: int = 0, source: str = "cam0") -> PoseFrame:
    rng = np.random.default_rng(seed)
    return PoseFrame(
        source=source,
        index=41,
        capture_ts=1_795_000_000.25,
        width=1768,
        height=994,
        image=rng.uniform(-0.2, 1.2, (persons, NUM_LANDMARKS, 3)).astype(np.float32),
        world=rng.normal(0, 0.4, (persons, NUM_LANDMARKS, 3)).astype(np.float32),
        visibility=rng.uniform(0, 1, (persons, NUM_LANDMARKS)).astype(np.float32),
    )


def header_of(parts: list[bytes]) -> dict:
    return json.loads(parts[1])


def with_header(parts: list[bytes], **changes) -> list[bytes]:
    header = header_of(parts)
    header.update(changes)
    return [parts[0], json.dumps(header).encode(), *parts[2:]]


def assert_same(a: PoseFrame, b: PoseFrame) -> None:
    assert (a.source, a.index, a.capture_ts, a.width, a.height) == (
        b.source,
        b.index,
        b.capture_ts,
        b.width,
        b.height,
    )
    for name in ("image", "world", "visibility"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
        assert getattr(b, name).dtype == np.float32


def test_round_trip_keeps_every_field_and_layout():
    frame = make_frame(3)
    parts = encode_pose_frame(frame)
    assert len(parts) == 5 and parts[0] == b"pose/cam0"
    header = header_of(parts)
    assert header["version"] == 1 and header["persons"] == 3 and header["dtype"] == "<f4"
    assert header["shapes"] == {"image": [3, 33, 3], "world": [3, 33, 3], "visibility": [3, 33]}
    assert parts[2] == frame.image.astype("<f4").tobytes()  # raw little-endian float32, C order
    assert_same(frame, decode_pose_frame(parts))


def test_zero_persons_round_trip():
    decoded = decode_pose_frame(encode_pose_frame(make_frame(0)))
    assert decoded.num_persons == 0 and decoded.world.shape == (0, 33, 3)


def test_max_message_bytes_admits_every_part_of_the_largest_frame():
    parts = encode_pose_frame(make_frame(MAX_PERSONS, source="x" * 64))
    assert max(len(p) for p in parts) <= MAX_MESSAGE_BYTES


@pytest.mark.parametrize(
    ("mutate", "reason"),
    [
        (lambda p: p[:4], "expected 5 message parts"),
        (lambda p: [*p, b""], "expected 5 message parts"),
        (lambda p: [p[0], b"{not json", *p[2:]], "not valid JSON"),
        (lambda p: [p[0], b"\xff\xfe", *p[2:]], "not UTF-8"),
        (lambda p: [p[0], b"[1, 2]", *p[2:]], "must be a JSON object"),
        (lambda p: [p[0], b"[" * 3000 + b"]" * 3000, *p[2:]], "more than"),
        (lambda p: [p[0], b"[" * 2000 + b"]" * 2000, *p[2:]], "not valid JSON"),
        (lambda p: with_header(p, version=2), "unknown protocol version"),
        (lambda p: with_header(p, version="1"), "unknown protocol version"),
        (lambda p: with_header(p, extra=1), "unexpected ['extra']"),
        (lambda p: {k: v for k, v in enumerate(p)}, "list of message parts"),
        (lambda p: [p[0], p[1], "text", *p[3:]], "must be bytes"),
        (lambda p: [p[0], p[1], 10**9, *p[3:]], "must be bytes"),
        (lambda p: with_header(p, index=True), "index must be int"),
        (lambda p: with_header(p, index="41"), "index must be int"),
        (lambda p: with_header(p, index=-1), "out of range"),
        (lambda p: with_header(p, width=0), "out of range"),
        (lambda p: with_header(p, height=10**6), "out of range"),
        (lambda p: with_header(p, persons=17), "out of range"),
        (lambda p: with_header(p, capture_ts="now"), "capture_ts must be float"),
        (lambda p: with_header(p, dtype=">f4"), "dtype must be"),
        (lambda p: with_header(p, source="../etc"), "source"),
        (lambda p: with_header(p, source="cam1"), "does not match source"),
        (lambda p: with_header(p, shapes={"image": [2, 33, 3]}), "shapes do not match"),
        (lambda p: with_header(p, persons=1), "shapes do not match"),
        (lambda p: [p[0], p[1], p[2][:-4], *p[3:]], "bytes, expected"),
        (lambda p: [p[0], p[1].replace(b'"index":41', b'"index":NaN'), *p[2:]], "non-finite"),
        (lambda p: [p[0], p[1].replace(b'"width":1768', b'"width":1768,"width":1'), *p[2:]], "repeats a key"),
    ],
)
def test_malformed_messages_are_rejected_with_a_reason(mutate, reason):
    parts = encode_pose_frame(make_frame(2))
    with pytest.raises(ProtocolError) as error:
        decode_pose_frame(mutate(parts))
    assert reason in str(error.value)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("array", ["image", "world", "visibility"])
def test_non_finite_array_values_are_rejected(array, bad):
    parts = encode_pose_frame(make_frame(2))
    index = {"image": 2, "world": 3, "visibility": 4}[array]
    values = np.frombuffer(parts[index], "<f4").copy()
    values[5] = bad
    parts[index] = values.tobytes()
    with pytest.raises(ProtocolError, match="non-finite"):
        decode_pose_frame(parts)


def test_visibility_outside_unit_interval_is_rejected():
    frame = make_frame(1)
    frame.visibility[0, 0] = 1.5
    with pytest.raises(ProtocolError, match=r"visibility values must lie in \[0, 1\]"):
        encode_pose_frame(frame)


def test_encoder_refuses_inconsistent_frames():
    frame = make_frame(2)
    bad = PoseFrame(frame.source, 0, 0.0, 10, 10, frame.image, frame.world[:1], frame.visibility)
    with pytest.raises(ProtocolError, match="world has shape"):
        encode_pose_frame(bad)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("sports2d-demo", "sports2d-demo"),
        ("my video (1)", "my-video-1-"),
        ("_.hidden", "hidden"),
        ("", "source"),
    ],
)
def test_safe_source_name_yields_valid_ids(name, expected):
    assert safe_source_name(name) == expected
    decode_pose_frame(encode_pose_frame(make_frame(1, source=safe_source_name(name))))


@st.composite
def pose_frames(draw) -> PoseFrame:
    persons = draw(st.integers(0, MAX_PERSONS))
    finite = st.floats(-1e6, 1e6, allow_nan=False, width=32)
    unit = st.floats(0, 1, width=32)
    return PoseFrame(
        source=draw(st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}", fullmatch=True)),
        index=draw(st.integers(0, 2**53)),
        capture_ts=draw(st.floats(0, 4e9)),
        width=draw(st.integers(1, 32768)),
        height=draw(st.integers(1, 32768)),
        image=draw(arrays(np.float32, (persons, NUM_LANDMARKS, 3), elements=finite, fill=finite)),
        world=draw(arrays(np.float32, (persons, NUM_LANDMARKS, 3), elements=finite, fill=finite)),
        visibility=draw(arrays(np.float32, (persons, NUM_LANDMARKS), elements=unit, fill=unit)),
    )


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pose_frames())
def test_random_frames_round_trip(frame):
    assert_same(frame, decode_pose_frame(encode_pose_frame(frame)))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.binary(max_size=64), max_size=7))
def test_random_messages_raise_only_protocol_error(parts):
    try:
        decode_pose_frame(parts)
    except ProtocolError:
        pass


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=8,
)


@settings(max_examples=200, deadline=None)
@given(
    field=st.sampled_from(
        ["version", "source", "index", "capture_ts", "width", "height", "persons", "dtype", "shapes"]
    ),
    value=json_values,
)
def test_any_header_field_value_gives_a_frame_or_protocol_error(field, value):
    parts = with_header(encode_pose_frame(make_frame(1)), **{field: value})
    try:
        decoded = decode_pose_frame(parts)
    except ProtocolError:
        return
    assert decoded.num_persons == 1


@settings(max_examples=200, deadline=None)
@given(data=st.data())
def test_byte_mutations_give_a_frame_or_protocol_error(data):
    parts = encode_pose_frame(make_frame(1))
    part = data.draw(st.integers(0, 4))
    raw = bytearray(parts[part])
    if raw:
        for _ in range(data.draw(st.integers(1, 4))):
            raw[data.draw(st.integers(0, len(raw) - 1))] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(0, len(raw)))
    parts[part] = bytes(raw[:cut])
    try:
        decoded = decode_pose_frame(parts)
    except ProtocolError:
        return
    assert np.isfinite(decoded.world).all() and decoded.num_persons <= MAX_PERSONS
