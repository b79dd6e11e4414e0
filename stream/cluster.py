"""Annotating many videos at once: one process per video (`--jobs N`) or a Dask cluster (`--cluster`).

Each video is one task, `annotate_job`: it annotates the video and writes its outputs itself
(atomically, stream/annotate.py `save_outputs`), so a worker never sends frames or poses back,
only the small `JobResult`. The label set is resolved once by the caller and travels with the
job, so the workers need neither the caller's registry nor its actions file. Each worker
process loads the model once and keeps it for the next videos.

Dask (`pip install -e ".[cluster]"`, docs/cluster.md) retries a failed task up to `retries` more
times; a video that still fails is reported with its error and the others go on.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from actzero.model.actions import Action
from actzero.stream.annotate import Annotation, annotate_video, save_outputs
from actzero.stream.pose import PoseOptions

if TYPE_CHECKING:
    from actzero.api import Recognizer
    from actzero.stream.worker import WorkerCore

LOCAL_PREFIX = "local:"


class ClusterError(ValueError):
    """A --cluster address cannot be used (the message says why)."""


@dataclass(frozen=True)
class AnnotateJob:
    """Everything a worker needs to annotate one video and write its outputs.

    Attributes:
        video: the video file (a path the worker can read).
        base: the output path without suffix (a path the worker can write).
        actions: the label set.
        csv, video_out: also write the CSV / the annotated video.
        num_poses: most persons detected per frame.
        pose_every, pose_width: see `annotate_video`.
    """

    video: Path
    base: Path
    actions: tuple[Action, ...]
    csv: bool = False
    video_out: bool = False
    num_poses: int = 4
    pose_every: int = 1
    pose_width: int | None = None


@dataclass(frozen=True)
class JobResult:
    """What one annotated video gave: its annotation (no kept poses), the files written, rendering."""

    annotation: Annotation
    written: list[Path]
    render_s: float
    note: str | None


JobCallback = Callable[[AnnotateJob, JobResult | None, BaseException | None], None]
"""Called as ``on_done(job, result, None)`` or ``on_done(job, None, error)`` as each video finishes."""

_recognizers: dict[tuple[Action, ...], Recognizer] = {}


def _core(actions: tuple[Action, ...]) -> WorkerCore:
    """The worker core for a label set, loaded once per process."""
    from actzero.api import Recognizer

    if actions not in _recognizers:
        _recognizers.clear()  # one label set at a time: a model is ~100 MB
        _recognizers[actions] = Recognizer(None, list(actions))
    return _recognizers[actions].core


def annotate_job(job: AnnotateJob) -> JobResult:
    """Annotate one video and write its outputs (the task each worker runs).

    Raises:
        actzero.stream.capture.CaptureError: the video cannot be read.
        OSError: an output cannot be written.
        ValueError: bad options.
    """
    annotation = annotate_video(
        job.video,
        _core(job.actions),
        pose_options=PoseOptions(num_poses=job.num_poses),
        keep_poses=job.video_out,
        pose_every=job.pose_every,
        pose_width=job.pose_width,
    )
    written, render_s, note = save_outputs(annotation, job.base, csv=job.csv, video_out=job.video_out)
    return JobResult(replace(annotation, pose_frames=[]), written, render_s, note)


def run_in_processes(jobs: Sequence[AnnotateJob], processes: int, on_done: JobCallback) -> None:
    """Annotate the videos in `processes` worker processes (spawned: no forked model threads).

    Args:
        jobs: the videos.
        processes: how many videos at once.
        on_done: called in this process as each video finishes or fails.
    """
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=max(1, processes), mp_context=context) as pool:
        pending: dict[Future, AnnotateJob] = {pool.submit(annotate_job, job): job for job in jobs}
        while pending:
            finished, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in finished:
                job = pending.pop(future)
                error = future.exception()
                on_done(job, None if error else future.result(), error)


def parse_cluster(address: str) -> tuple[str, int | None]:
    """``"local:N"`` -> ("local", N); a scheduler address (``tcp://host:8786``) -> (address, None).

    Raises:
        ClusterError: ``local:`` without a positive worker count, or an address without a scheme.
    """
    if address.startswith(LOCAL_PREFIX):
        count = address[len(LOCAL_PREFIX) :]
        if not count.isdigit() or int(count) < 1:
            raise ClusterError(f"--cluster {address}: expected local:N with N workers (N >= 1)")
        return "local", int(count)
    if "://" not in address:
        raise ClusterError(
            f"--cluster {address}: expected local:N or a Dask scheduler address such as tcp://host:8786"
        )
    return address, None


def run_on_dask(jobs: Sequence[AnnotateJob], address: str, on_done: JobCallback, *, retries: int = 2) -> None:
    """Annotate the videos as tasks of a Dask cluster, one task per video.

    Args:
        jobs: the videos (their paths must be readable and writable on the workers).
        address: ``local:N`` to start a local cluster of N single-threaded worker processes for
            this run, or the address of a running scheduler (``tcp://host:8786``).
        on_done: called in this process as each video finishes, or fails after its retries.
        retries: how many more times a failed video is tried.

    Raises:
        ClusterError: Dask is not installed, or the address is malformed or unreachable.
    """
    scheduler, workers = parse_cluster(address)
    try:
        from distributed import Client, LocalCluster, as_completed
    except ImportError:
        raise ClusterError(
            '--cluster needs Dask\'s distributed scheduler: pip install -e ".[cluster]"'
        ) from None
    cluster = None
    try:
        if workers is not None:
            cluster = LocalCluster(
                n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None
            )
            client = Client(cluster)
        else:
            client = Client(scheduler, timeout="20s")
    except (OSError, TimeoutError) as exc:
        if cluster is not None:
            cluster.close()
        raise ClusterError(f"--cluster {address}: cannot reach the scheduler: {exc}") from None
    try:
        futures = {
            client.submit(annotate_job, job, retries=retries, key=f"annotate-{i}-{job.video.name}"): job
            for i, job in enumerate(jobs)
        }
        for future in as_completed(futures):
            job = futures[future]
            if future.status == "finished":
                on_done(job, future.result(), None)
            else:
                on_done(job, None, future.exception())
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
