"""`actzero annotate`: label what every person does, over time, in video files (offline, every frame)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from actzero.cli.main import app

if TYPE_CHECKING:
    from rich.console import Console

    from actzero.stream.annotate import Annotation
    from actzero.stream.cluster import AnnotateJob


class _Refused(Exception):
    """The command line cannot be run as given (the message says why); nothing was processed."""


def _output_name(video: Path) -> str:
    """The output base name of a video: its file name without the last suffix."""
    return video.name[: -len(video.suffix)] if video.suffix else video.name


def _videos(paths: list[Path]) -> list[tuple[Path, Path]]:
    """Each video to annotate with its output base path relative to --out (no suffix).

    Folders are searched recursively (hidden folders and actzero's own output videos are left
    out) and a video found in one keeps its path below that folder, so a/x.mp4 and b/x.mp4 in
    one folder get distinct outputs; a file given directly is named by its file name alone. A
    file given twice is annotated once. Two videos that would share an output are refused.

    Raises:
        _Refused: no video was found, or two videos would write the same output files.
    """
    from actzero.stream.annotate import VIDEO_SUFFIX, VIDEO_SUFFIXES

    found: list[tuple[Path, Path]] = []
    empty: list[Path] = []
    for path in paths:
        if path.is_dir():
            inside = sorted(
                p
                for p in path.rglob("*")
                if p.is_file()
                and p.suffix.lower() in VIDEO_SUFFIXES
                and not p.name.endswith(VIDEO_SUFFIX)
                and not any(part.startswith(".") for part in p.relative_to(path).parts)
            )
            if not inside:
                empty.append(path)
            found.extend((p, p.relative_to(path).with_name(_output_name(p))) for p in inside)
        else:
            found.append((path, Path(_output_name(path))))
    if not found:
        where = ", ".join(str(p) for p in empty)
        raise _Refused(
            f"no video files ({' '.join(sorted(VIDEO_SUFFIXES))}) found in {where} or its subfolders"
        )
    videos: list[tuple[Path, Path]] = []
    owners: dict[str, Path] = {}
    seen: set[Path] = set()
    for video, name in found:
        if video.resolve() in seen:
            continue
        seen.add(video.resolve())
        key = str(name).casefold()  # case-insensitive file systems would merge them too
        if key in owners:
            raise _Refused(
                f"{owners[key]} and {video} would both be written as {name}.*; annotate them into "
                "separate --out folders, or pass their common parent folder (outputs keep sub-paths)"
            )
        owners[key] = video
        videos.append((video, name))
    return videos


def _check_out(out: Path, names: list[Path], suffixes: list[str]) -> None:
    """Make sure every output can be written before any video is processed.

    Raises:
        _Refused: --out is a file, cannot be created or written, or an output path is a folder.
    """
    import tempfile

    if out.exists() and not out.is_dir():
        raise _Refused(f"--out {out} is a file, not a folder")
    try:
        out.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=out):
            pass
    except OSError as exc:
        raise _Refused(f"cannot write to --out {out}: {exc.strerror or exc}") from None
    for name in names:
        for suffix in suffixes:
            target = out / f"{name}{suffix}"
            if target.is_dir():
                raise _Refused(f"cannot write {target}: it is a folder")
            if target.parent.exists() and not target.parent.is_dir():
                raise _Refused(f"cannot write {target}: {target.parent} is a file")


def _plural(count: int, noun: str) -> str:
    """ "1 frame", "2 frames"."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _fmt_time(seconds: float) -> str:
    minutes, secs = divmod(seconds, 60.0)
    return f"{int(minutes)}:{secs:05.2f}"


@app.command("annotate")
def annotate(
    paths: list[Path] = typer.Argument(
        None, help="Video files or folders of videos (default: the bundled sample video).", show_default=False
    ),
    out: Path = typer.Option(Path("annotations"), "--out", "-o", help="Folder for the output files."),
    csv: bool = typer.Option(False, "--csv", help="Also write <name>.actzero.csv (one row per segment)."),
    video_out: bool = typer.Option(
        False,
        "--video-out",
        help="Also write <name>.actzero.mp4 with skeletons, track ids and labels "
        "(H.264 with the 'av' package installed, else MPEG-4 Part 2).",
    ),
    actions_file: Path | None = typer.Option(
        None, "--actions", help="Label set: a text file of 'name: description' lines (default: the registry)."
    ),
    num_poses: int = typer.Option(4, "--num-poses", min=1, max=16, help="Most persons detected per frame."),
    pose_every: int = typer.Option(
        1,
        "--pose-every",
        min=1,
        max=8,
        help="Estimate poses on every Nth frame only and interpolate the others (faster; labels can "
        "differ: BENCHMARKS.md).",
    ),
    pose_width: int | None = typer.Option(
        None,
        "--pose-width",
        min=32,
        help="Downscale frames wider than this for pose estimation (faster; labels can differ).",
    ),
    pose_jobs: int | None = typer.Option(
        None,
        "--pose-jobs",
        min=1,
        help="Processes estimating the poses of one video (same poses and labels as one process). "
        "Default: 2 when a second core is idle (load average), else 1; 1 with --jobs/--cluster.",
        show_default=False,
    ),
    jobs: int = typer.Option(1, "--jobs", "-j", min=1, help="Videos annotated at once, one process each."),
    cluster: str | None = typer.Option(
        None,
        "--cluster",
        help="Run each video as a task on Dask: local:N starts N local workers, tcp://host:8786 uses a "
        "running scheduler (needs the 'cluster' extra; docs/cluster.md).",
    ),
    retries: int = typer.Option(
        2, "--retries", min=0, max=10, help="With --cluster: more tries for a video that fails."
    ),
    verbose: bool = typer.Option(False, "--verbose", help="Show MediaPipe's native start-up log."),
) -> None:
    """Recognise the actions of every person in videos and write a timeline per video.

    Writes <out>/<name>.actzero.json (docs/annotation-schema.md) per video, and prints a
    timeline table per person. Folders are searched recursively; a video found in one keeps its
    sub-path under --out. The outputs are checked before any video is processed. An unreadable
    video is reported and skipped (exit code 1 at the end).

    With --jobs N, N videos are annotated at once (one process each); with --cluster, each video
    is a task on a Dask cluster (docs/cluster.md), retried up to --retries more times.

    Example: actzero annotate clip.mp4 videos/ --out annotations --csv --video-out
    """
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
    from rich.table import Table

    from actzero.api import Recognizer
    from actzero.model.bundle import BundleError
    from actzero.model.labelset import ActionsFileError
    from actzero.model.registry import RegistryError
    from actzero.stream import annotate as ann
    from actzero.stream.capture import SAMPLE_VIDEO, CaptureError
    from actzero.stream.cluster import AnnotateJob
    from actzero.stream.pose import PoseOptions

    console = Console(stderr=True)
    suffixes = [ann.JSON_SUFFIX] + [ann.CSV_SUFFIX] * csv + [ann.VIDEO_SUFFIX] * video_out
    try:
        videos = _videos(paths or [SAMPLE_VIDEO])
        _check_out(out, [name for _, name in videos], suffixes)
    except _Refused as exc:
        console.print(f"[red]error:[/] {exc}", highlight=False, soft_wrap=True)
        raise typer.Exit(1) from None
    try:
        recognizer = Recognizer.from_actions(actions_file)
    except (ActionsFileError, RegistryError, BundleError, ValueError) as exc:
        console.print(f"[red]error:[/] {exc}")
        raise typer.Exit(1) from None

    failed: list[tuple[Path, str]] = []
    done: list[ann.Annotation] = []

    def report(
        video: Path, annotation: ann.Annotation, written: list[Path], render_s: float, note: str | None
    ) -> None:
        done.append(annotation)
        rendered = f", video rendered in {render_s:.1f} s" if video_out else ""
        console.print(
            f"[green]wrote[/] {', '.join(str(p) for p in written)} ({annotation.duration_s:.1f} s of video "
            f"processed in {annotation.processing_s:.1f} s{rendered}, "
            f"{_plural(len(annotation.persons), 'track')})",
            highlight=False,
            soft_wrap=True,
        )
        if note:
            console.print(f"note: {note}", highlight=False, soft_wrap=True)

    if cluster is not None or jobs > 1:
        _annotate_in_parallel(
            [
                AnnotateJob(
                    video,
                    out / name,
                    tuple(recognizer.actions),
                    csv=csv,
                    video_out=video_out,
                    num_poses=num_poses,
                    pose_every=pose_every,
                    pose_width=pose_width,
                )
                for video, name in videos
            ],
            jobs,
            cluster,
            retries,
            console,
            report,
            failed,
        )
        videos_done = {a.video: a for a in done}  # print the tables in the order given
        done = [videos_done[video] for video, _ in videos if video in videos_done]
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("frames"),
        TimeRemainingColumn(),
    )
    for video, name in videos if cluster is None and jobs == 1 else []:
        try:
            with Progress(*columns, console=console, transient=False) as progress:
                task = progress.add_task(f"{video.name}", total=None)

                def step(
                    done_frames: int, total: int, task: int = task, progress: Progress = progress
                ) -> None:
                    progress.update(task, completed=done_frames, total=total or None)

                annotation = ann.annotate_video(
                    video,
                    recognizer.core,
                    pose_options=PoseOptions(num_poses=num_poses, native_logs=verbose),
                    progress=step,
                    keep_poses=video_out,
                    pose_every=pose_every,
                    pose_width=pose_width,
                    pose_jobs=pose_jobs or ann.default_pose_jobs(),
                )
                render = progress.add_task("  rendering", total=annotation.frames) if video_out else None
                written, render_s, note = ann.save_outputs(
                    annotation,
                    out / name,
                    csv=csv,
                    video_out=video_out,
                    render_progress=lambda n, total, render=render: progress.update(
                        render, completed=n, total=total
                    ),
                )
        except (CaptureError, OSError, ValueError) as exc:
            console.print(f"[red]skipped[/] {video}: {exc}")
            failed.append((video, str(exc)))
            continue
        report(video, annotation, written, render_s, note)

    output = Console()
    for annotation in done:
        table = Table(title=f"{annotation.video.name}: actions per person", title_justify="left")
        for column in ("track", "from", "to", "action", "score", "runner-up"):
            table.add_column(column)
        unclassified = [p for p in annotation.persons if not p.segments]
        for person in annotation.persons:
            for seg in person.segments:
                runner = next(((n, p) for n, p in seg.top_k if n != seg.label), None)
                table.add_row(
                    f"#{person.track}",
                    _fmt_time(seg.start_s),
                    _fmt_time(seg.end_s),
                    seg.label or "[dim]- no action[/]",
                    f"{seg.score:.2f}",
                    f"{runner[0]} {runner[1]:.2f}" if runner else "",
                )
        output.print(table)
        if unclassified:
            output.print(
                f"{_plural(len(unclassified), 'more track')} too short for a window: "
                + ", ".join(f"#{p.track} ({_plural(p.frames, 'frame')})" for p in unclassified)
            )
    if failed:
        console.print(f"[red]{len(failed)} of {len(videos)} files failed[/]")
        raise typer.Exit(1)


def _annotate_in_parallel(
    jobs: list[AnnotateJob],
    processes: int,
    cluster: str | None,
    retries: int,
    console: Console,
    report: Callable[[Path, Annotation, list[Path], float, str | None], None],
    failed: list[tuple[Path, str]],
) -> None:
    """Run the jobs in `processes` local processes, or on the Dask cluster `cluster`, with a bar of videos.

    Each finished video is passed to `report`; each failure is printed and added to `failed`.
    """
    from rich.markup import escape
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from actzero.stream.capture import CaptureError
    from actzero.stream.cluster import ClusterError, run_in_processes, run_on_dask

    where = f"on {cluster}" if cluster else f"in {processes} processes"
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TextColumn("videos"))
    with Progress(*columns, TimeElapsedColumn(), console=console, transient=False) as progress:
        task = progress.add_task(f"annotating {where}", total=len(jobs))

        def on_done(job, result, error) -> None:
            progress.advance(task)
            if error is None:
                report(job.video, result.annotation, result.written, result.render_s, result.note)
                return
            tries = f" (after {retries + 1} tries)" if cluster and retries else ""
            expected = isinstance(error, CaptureError | OSError | ValueError)
            message = str(error) if expected else f"{type(error).__name__}: {error}"
            console.print(
                f"[red]failed[/] {escape(str(job.video))}{tries}: {escape(message)}",
                highlight=False,
                soft_wrap=True,
            )
            failed.append((job.video, message))

        try:
            if cluster is not None:
                run_on_dask(jobs, cluster, on_done, retries=retries)
            else:
                run_in_processes(jobs, processes, on_done)
        except ClusterError as exc:
            progress.stop()
            console.print(f"[red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True)
            raise typer.Exit(1) from None
