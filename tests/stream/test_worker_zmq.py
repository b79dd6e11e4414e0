"""Worker service over real ZeroMQ sockets: results, drop policies, bad input, two-worker topology."""

from __future__ import annotations

import json

import pytest
import zmq
from _worker_poses import replay
from _worker_service import Publisher, Results, running_service

from actzero.stream.protocol import encode_pose_frame
from actzero.stream.results import ActionResult, ResultError, decode_result, encode_result


@pytest.fixture
def ctx():
    context = zmq.Context()
    yield context
    context.destroy(linger=0)  # closes what a failed test left open


def test_results_flow_from_published_poses(make_core, ctx: zmq.Context, tmp_path) -> None:
    pub = Publisher(ctx, f"ipc://{tmp_path}/poses")
    with running_service(make_core(), [pub.address]) as worker:
        results = Results(ctx, worker.results)
        worker.wait_status(lambda s: s["result_subscriptions"] >= 1)
        assert pub.wait_subscribed() == b"pose/"
        frames = replay("cam1", 40)
        worker.publish_in_step(pub, frames)
        status = worker.status()
        assert status["frames_in"] == 40 and status["frames_dropped_stale"] == 0
        assert status["results_published"] >= 2
        got = results.take(status["results_published"])
        results.close()
    pub.close()
    assert {r.source for r in got} == {"cam1"} and len({r.track for r in got}) >= 2
    for r in got:
        assert r.end_index < 40 and r.frames >= 24 and r.latency_ms >= 0
        assert r.end_ts == frames[r.end_index].capture_ts


def test_overload_keeps_only_the_newest_frames_and_counts_drops(make_core, ctx: zmq.Context) -> None:
    pub = Publisher(ctx)
    with running_service(make_core(), [pub.address]) as worker:
        pub.wait_subscribed()
        burst = replay("cam1", 1500)  # much faster than any worker: published back to back
        for frame in burst:
            pub.send(frame)
        status = worker.wait_status(lambda s: s["messages_in"] + s["frames_missing"] >= len(burst))
    pub.close()
    assert status["frames_dropped_stale"] > 0
    assert status["frames_in"] < len(burst)
    assert status["frames_in"] + status["frames_dropped_stale"] + status["frames_missing"] == len(burst)


def test_stalled_result_consumer_does_not_stall_the_worker(make_core, ctx: zmq.Context) -> None:
    pub = Publisher(ctx)

    core = make_core(stride=1, min_frames=2)
    with running_service(core, [pub.address], snd_hwm=2, results_sndbuf=2048) as worker:
        stalled = ctx.socket(zmq.SUB)
        stalled.rcvhwm = 1
        stalled.rcvbuf = 2048
        stalled.setsockopt(zmq.SUBSCRIBE, b"")
        stalled.connect(worker.results)  # and never read
        worker.wait_status(lambda s: s["result_subscriptions"] >= 1)
        pub.wait_subscribed()
        worker.publish_in_step(pub, replay("cam1", 60))
        status = worker.status()
        stalled.close(linger=0)
    pub.close()
    assert status["frames_in"] == 60
    assert status["results_dropped"] > 0
    assert status["results_published"] + status["results_dropped"] == status["windows_classified"]


def test_bad_messages_are_counted_and_never_crash(make_core, ctx: zmq.Context) -> None:
    pub, other = Publisher(ctx), Publisher(ctx)
    with running_service(make_core(), [pub.address, other.address]) as worker:
        other.wait_subscribed()
        pub.wait_subscribed()
        good = encode_pose_frame(replay("cam1", 2)[1])
        header = json.loads(good[1])
        bad = [
            [b"pose/cam1"],  # too few parts
            [good[0], b"{not json", *good[2:]],
            [good[0], json.dumps({**header, "persons": 3}).encode(), *good[2:]],  # sizes disagree
            [good[0], good[1], good[2][:-4], *good[3:]],  # truncated array
            [good[0], json.dumps({**header, "source": "x" * 500}).encode(), *good[2:]],
        ]
        for k, parts in enumerate(bad, start=1):  # one at a time: a stale message is never read
            pub.send_raw(parts)
            worker.wait_status(lambda s, k=k: s["messages_in"] >= k)
        pub.send_raw(good)
        status = worker.wait_status(lambda s: s["messages_in"] >= len(bad) + 1)
        assert status["bad_messages"] == len(bad) and status["frames_in"] == 1
        # an oversized part (a protocol violation) makes ZeroMQ drop that connection unread; the
        # worker connects again with a new subscriber (its subscription can reach the publisher
        # before the old one is reported gone, so the count of reconnects is what tells), carries
        # on with the others and receives the same publisher again
        pub.send_raw([good[0], good[1], b"\0" * (worker.service.config.max_message_bytes + 1), *good[3:]])
        worker.wait_status(lambda s: s["reconnects"] >= 1)
        pub.wait_subscribed()
        other.send(replay("cam2", 1)[0])
        pub.send(replay("cam3", 1)[0])
        status = worker.wait_status(lambda s: s["frames_in"] == 3)
        assert status["bad_messages"] == len(bad)  # the oversized message was never decoded
    pub.close()
    other.close()


def test_two_workers_split_the_sources_by_topic(make_core, ctx: zmq.Context, tmp_path) -> None:
    """docs/topology.md: two publishers, two workers; each source is handled by exactly one worker."""
    pub_a, pub_b = Publisher(ctx), Publisher(ctx, f"ipc://{tmp_path}/b")
    addresses = [pub_a.address, pub_b.address]
    with (
        running_service(make_core(), addresses, topics=("pose/cam1", "pose/cam3")) as w1,
        running_service(make_core(), addresses, topics=("pose/cam2",)) as w2,
    ):
        r1, r2 = Results(ctx, w1.results), Results(ctx, w2.results)
        for worker in (w1, w2):
            worker.wait_status(lambda s: s["result_subscriptions"] >= 1)
        for _ in range(3):  # w1 subscribes twice on each publisher, w2 once
            pub_a.wait_subscribed()
            pub_b.wait_subscribed()
        cams = {name: replay(name, 30) for name in ("cam1", "cam2", "cam3")}
        for k in range(30):
            pub_a.send(cams["cam1"][k])
            pub_a.send(cams["cam2"][k])
            pub_b.send(cams["cam3"][k])
            w1.wait_status(lambda s, k=k: s["messages_in"] >= 2 * (k + 1))
            w2.wait_status(lambda s, k=k: s["messages_in"] >= k + 1)
        s1, s2 = w1.status(), w2.status()
        got1, got2 = r1.take(s1["results_published"]), r2.take(s2["results_published"])
        r1.close()
        r2.close()
    pub_a.close()
    pub_b.close()
    assert s1["messages_in"] == 60 and s2["messages_in"] == 30
    assert {r.source for r in got1} == {"cam1", "cam3"} and {r.source for r in got2} == {"cam2"}


def test_result_messages_round_trip_and_reject_malformed_ones() -> None:
    result = ActionResult(
        source="cam1", track=3, start_ts=1.0, end_ts=3.1, start_index=10, end_index=73, frames=64,
        label=None, score=0.25, top_k=[("wave", 0.25), ("clap", 0.2)],
        timings_ms={"map": 0.1, "canonicalise": 0.5, "model": 3.0, "total": 4.0}, latency_ms=5.0,
    )  # fmt: skip
    parts = encode_result(result)
    assert parts[0] == b"result/cam1" and decode_result(parts) == result
    body = json.loads(parts[1])
    for broken in (
        [parts[0]],
        [parts[0], b"\xff"],
        [parts[0], b"[]"],
        [b"result/other", parts[1]],
        [parts[0], json.dumps({**body, "v": 2}).encode()],
        [parts[0], json.dumps({**body, "track": "3"}).encode()],
        [parts[0], json.dumps({k: v for k, v in body.items() if k != "score"}).encode()],
        [parts[0], json.dumps({**body, "top_k": [["wave"]]}).encode()],
        [parts[0], json.dumps({**body, "score": "NaN"}).encode()],
    ):
        with pytest.raises(ResultError):
            decode_result(broken)
