"""`actzero classify`: classify skeleton clips (.npz, .bvh, .skeleton, .npy); one JSON line per clip."""

from __future__ import annotations

from pathlib import Path

import typer

from actzero.cli.main import app
from actzero.model.windows import MAX_FPS, MIN_FPS


@app.command("classify")
def classify(
    files: list[Path] = typer.Argument(
        ..., help="Skeleton files: .npz, .bvh, .skeleton or .npy.", show_default=False
    ),
    fps: float | None = typer.Option(
        None,
        "--fps",
        min=MIN_FPS,
        max=MAX_FPS,
        help="Frame rate of the clips (default: what a BVH declares, else 30).",
    ),
    actions_file: Path | None = typer.Option(
        None,
        "--actions",
        help="Label set: text file of 'name: description' lines, # comments; a repeated name adds a "
        "description (default: the registry's actions).",
    ),
    top_k: int = typer.Option(5, "--top-k", min=1, max=50, help="Classes listed in top_k."),
) -> None:
    """Classify each clip and print one JSON line: {"clip", "label", "score", "top_k"}.

    A clip longer than the model window is cut into overlapping windows whose class
    probabilities are averaged (clips of 0.8 s to one hour, in bounded memory). label null
    means "no action" (unsure or idle). A file that cannot be read is reported on stderr and
    skipped (exit code 1 at the end).

    Example: actzero classify wave.bvh clips.npz --actions my_actions.txt
    """
    import json

    from actzero.api import Recognizer
    from actzero.model.bundle import BundleError
    from actzero.model.labelset import ActionsFileError
    from actzero.model.readers import SkeletonFileError, read_skeleton_file
    from actzero.model.registry import RegistryError

    def error(message: str) -> None:
        typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)

    try:
        recognizer = Recognizer.from_actions(actions_file)
    except (ActionsFileError, RegistryError, BundleError) as exc:
        error(str(exc))
        raise typer.Exit(1) from None

    failed = 0
    for path in files:
        try:
            clips = read_skeleton_file(path, fps)
        except (OSError, SkeletonFileError, ValueError) as exc:
            error(f"{path}: {exc}" if str(path) not in str(exc) else str(exc))
            failed += 1
            continue
        for name, joints, clip_fps in clips:
            clip = str(path) if len(clips) == 1 else f"{path}:{name}"
            try:
                prediction = recognizer.classify_skeleton(joints, fps=clip_fps, top_k=top_k)
            except ValueError as exc:
                error(f"{clip}: {exc}")
                failed += 1
                continue
            line = {
                "clip": clip,
                "label": prediction.label,
                "score": round(float(prediction.score), 4),
                "top_k": [[label, round(float(p), 4)] for label, p in prediction.top_k],
            }
            typer.echo(json.dumps(line, ensure_ascii=False))
    if failed:
        raise typer.Exit(1)
