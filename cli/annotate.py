"""`actzero annotate`: label what every person does, over time, in video files (offline, every frame)."""

from __future__ import annotations

from pathlib import Path

import typer

from actzero.cli.main import app


def _videos(paths: list[Path]) -> list[Path]:
    """Expand folders into the video files they hold (sorted); files are kept as given."""
    from actzero.stream.annotate import VIDEO_SUFFIXES

    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(
                sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in VIDEO_SUFFIXES)
            )
        else:
            found.append(path)
    return found


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
        False, "--video-out", help="Also write <name>.actzero.mp4 with skeletons, track ids and labels."
    ),
    actions_file: Path | None = typer.Option(
        None, "--actions", help="Label set: a text file of 'name: description' lines (default: the registry)."
    ),
    num_poses: int = typer.Option(4, "--num-poses", min=1, max=16, help="Most persons detected per frame."),
) -> None:
    """Recognise the actions of every person in videos and write a timeline per video.

    Writes <out>/<name>.actzero.json (docs/annotation-schema.md) per video, and prints a
    timeline table per person. An unreadable file is reported and skipped (exit code 1 at the end).

    Example: actzero annotate clip.mp4 videos/ --out annotations --csv --video-out
    """
    import time

    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
    from rich.table import Table

    from actzero.api import ActionsFileError, Recognizer, read_actions_file
    from actzero.model.bundle import BundleError
    from actzero.model.registry import RegistryError
    from actzero.stream import annotate as ann
    from actzero.stream.capture import SAMPLE_VIDEO, CaptureError
    from actzero.stream.pose import PoseOptions

    console = Console(stderr=True)
    videos = _videos(paths or [SAMPLE_VIDEO])
    if not videos:
        console.print("[red]error:[/] no video files found")
        raise typer.Exit(1)
    try:
        if actions_file is not None:
            recognizer = Recognizer(actions=read_actions_file(actions_file))
        else:
            recognizer = Recognizer.from_registry()
    except (ActionsFileError, RegistryError, BundleError, ValueError) as exc:
        console.print(f"[red]error:[/] {exc}")
        raise typer.Exit(1) from None

    failed: list[tuple[Path, str]] = []
    done: list[tuple[ann.Annotation, Path, float]] = []
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("frames"),
        TimeRemainingColumn(),
    )
    for video in videos:
        began = time.perf_counter()
        stem = video.name[: -len(video.suffix)] if video.suffix else video.name
        json_path = out / f"{stem}{ann.JSON_SUFFIX}"
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
                    pose_options=PoseOptions(num_poses=num_poses),
                    progress=step,
                    keep_poses=video_out,
                )
                if video_out:
                    render = progress.add_task("  rendering", total=annotation.frames)
                    ann.render_video(
                        annotation,
                        out / f"{stem}{ann.VIDEO_SUFFIX}",
                        progress=lambda n, total, render=render: progress.update(
                            render, completed=n, total=total
                        ),
                    )
            ann.write_json(annotation, json_path)
            if csv:
                ann.write_csv(annotation, out / f"{stem}{ann.CSV_SUFFIX}")
        except (CaptureError, OSError, ValueError) as exc:
            console.print(f"[red]skipped[/] {video}: {exc}")
            failed.append((video, str(exc)))
            continue
        elapsed = time.perf_counter() - began
        done.append((annotation, json_path, elapsed))
        console.print(
            f"[green]wrote[/] {json_path} ({annotation.duration_s:.1f} s of video in {elapsed:.1f} s, "
            f"{len(annotation.persons)} tracks)"
        )

    output = Console()
    for annotation, _, _ in done:
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
                f"{len(unclassified)} more tracks too short for a window: "
                + ", ".join(f"#{p.track} ({p.frames} frames)" for p in unclassified)
            )
    if failed:
        console.print(f"[red]{len(failed)} of {len(videos)} files failed[/]")
        raise typer.Exit(1)
