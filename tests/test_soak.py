"""Soak smoke test: bench/soak.py for 7 s against a real `actzero worker` process.

The full soak (10+ minutes, docs/reliability.md) is `nice -n 10 python bench/soak.py`.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
import soak  # noqa: E402


@pytest.mark.slow
def test_short_soak_produces_results_with_bounded_memory():
    intervals = soak.run_soak(minutes=0.12, interval_s=2.4, sources=2)
    assert len(intervals) == 3
    for interval in intervals:
        assert interval.frames_sent > 0 and interval.results > 0, interval
        assert interval.bad_messages == 0 and interval.results_dropped == 0
        assert math.isfinite(interval.latency_p50_ms) and interval.latency_p50_ms > 0
    # after the first interval (models loaded, buffers filled) memory is flat: allow 40 MiB of noise
    assert intervals[-1].rss_max_mb - intervals[0].rss_mb < 40, [i.rss_mb for i in intervals]
    assert intervals[-1].tracks >= 2  # two sources, people tracked in each
