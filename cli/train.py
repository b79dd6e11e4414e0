"""`actzero train` and `actzero eval`: train the default bundle, run the zero-shot evaluation."""

from __future__ import annotations

from pathlib import Path

import typer

from actzero.cli.main import app
from actzero.cli.options import (
    DEFAULT_DATASET,
    DEFAULT_SHARED,
    CameraError,
    Dataset,
    Epochs,
    Frame,
    LowFrameRate,
    MaskWeight,
    PlacementOffset,
    SharedData,
    SmoothSigma,
    SourceBalanced,
    TextWeight,
    TorchThreads,
)
from actzero.model.bundle import LATENT_SPACES
from actzero.model.canonical import CANONICAL_FRAMES

DEFAULT_BUNDLE_OUT = Path("model") / "assets" / "default_bundle"


def _dataset(path: Path, shared: Path, seed: int):
    """Load the data set, building it first from `shared` when the file does not exist."""
    from actzero.training.dataset import build_dataset, load_dataset

    if path.is_file():
        return load_dataset(path)
    typer.echo(f"{path} does not exist: building it from {shared} (seed {seed})")
    return build_dataset(shared, path, seed)


def _progress_bar(console):
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    return Progress(TextColumn("{task.description:<10}"), BarColumn(), TimeElapsedColumn(), console=console)


def manifest_metrics(results: dict) -> dict:
    """What a bundle's manifest keeps of `actzero eval` results (results.json or cross_source.json).

    bandai-split: its summary table. cross-source: the command, the mean over held-out sources
    and each source's class-balanced ZSL clip top-1 per variant.

    Raises:
        KeyError: neither kind of results.
    """
    if "summary" in results:
        return results["summary"]
    per_source = {
        source: {variant: r["zsl"]["clip_balanced"] for variant, r in entry["variants"].items()}
        for source, entry in results["sources"].items()
    }
    return {
        "protocol": "cross-source",
        "command": results["command"],
        "mean": results["mean"],
        "zsl_clip_balanced": per_source,
    }


def backbone_recipe(
    threads: int,
    text_weight: float,
    frame: str,
    camera_error: bool,
    source_balanced: bool,
    smooth_sigma: float,
    mask_weight: float,
    low_frame_rate: float = 0.0,
    placement_offset: float = 0.0,
    device: str = "cpu",
):
    """The TrainConfig that `train` and `eval` build from their shared backbone options."""
    from actzero.training.augment import AugmentConfig
    from actzero.training.backbone import BackboneConfig
    from actzero.training.train import TrainConfig

    return TrainConfig(
        threads=threads,
        text_weight=text_weight,
        canonical_frame=frame,
        source_balanced=source_balanced,
        mask_weight=mask_weight,
        device=device,
        augment=AugmentConfig(
            camera_error=camera_error,
            low_rate_probability=low_frame_rate,
            placement_offset=placement_offset,
        ),
        backbone=BackboneConfig(smooth_sigma=smooth_sigma),
    )


@app.command("train")
def train(
    out: Path = typer.Option(DEFAULT_BUNDLE_OUT, "--out", help="Bundle folder to write."),
    dataset: Dataset = DEFAULT_DATASET,
    shared: SharedData = DEFAULT_SHARED,
    seed: int = typer.Option(0, "--seed", help="Seed of every random choice (reproducible)."),
    epochs: Epochs = 0,
    metrics: Path | None = typer.Option(
        None,
        "--metrics",
        help="results.json (bandai-split) or cross_source.json of `actzero eval` to store in the manifest.",
    ),
    threads: TorchThreads = 2,
    text_weight: TextWeight = 1.0,
    frame: Frame = "limbs",
    camera_error: CameraError = False,
    source_balanced: SourceBalanced = False,
    smooth_sigma: SmoothSigma = 2.0,
    mask_weight: MaskWeight = 0.0,
    low_frame_rate: LowFrameRate = 0.5,
    placement_offset: PlacementOffset = 0.1,
    latent_space: str = typer.Option(
        "two-way",
        "--latent-space",
        help="Where typed labels are scored: 'two-way' (the mean of a cosine in the sentence-embedding "
        "space, features projected there, and one in the feature space, labels mapped there; docs/model.md "
        "'Two-way scoring'), 'text' (the first cosine alone) or 'sadvae' (z_r against the text VAE).",
    ),
) -> None:
    """Train the backbone + SA-DVAE on all classes and export an ONNX bundle.

    Example: actzero train --out model/assets/default_bundle --seed 0
    """
    import json
    import time
    from dataclasses import replace

    from rich.console import Console

    from actzero.training.train import train_default_bundle

    console = Console()
    try:
        data = _dataset(dataset, shared, seed)
    except (OSError, ValueError) as error:
        console.print(f"[red]error:[/red] {error}")
        raise typer.Exit(1) from None
    summary = {}
    if metrics is not None:
        try:
            summary = manifest_metrics(json.loads(metrics.read_text()))
        except (OSError, ValueError, KeyError) as error:
            console.print(f"[red]error:[/red] cannot read metrics from {metrics}: {error}")
            raise typer.Exit(1) from None
    if frame not in CANONICAL_FRAMES:
        known = ", ".join(CANONICAL_FRAMES)
        console.print(f"[red]error:[/red] --frame must be one of {known}, not {frame!r}")
        raise typer.Exit(1)
    if latent_space not in LATENT_SPACES:
        known = ", ".join(LATENT_SPACES)
        console.print(f"[red]error:[/red] --latent-space must be one of {known}, not {latent_space!r}")
        raise typer.Exit(1)
    config = backbone_recipe(
        threads=threads,
        text_weight=text_weight,
        frame=frame,
        camera_error=camera_error,
        source_balanced=source_balanced,
        smooth_sigma=smooth_sigma,
        mask_weight=mask_weight,
        low_frame_rate=low_frame_rate,
        placement_offset=placement_offset,
    )
    if epochs:
        config = replace(config, epochs=epochs)
    started = time.time()
    with _progress_bar(console) as bar:
        tasks: dict[str, int] = {}

        def progress(stage: str, fraction: float) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(stage, total=1.0)
            bar.update(tasks[stage], completed=fraction)

        manifest = train_default_bundle(
            data, out, seed=seed, config=config, metrics=summary, progress=progress, latent_space=latent_space
        )
    size = sum(f.stat().st_size for f in out.iterdir()) / 2**20
    console.print(
        f"wrote {out} ({size:.2f} MiB, {len(manifest['actions'])} actions) in {time.time() - started:.0f} s; "
        f"held-out window accuracy {100 * manifest['training']['heldout_window_accuracy']:.1f}%; "
        f"ONNX vs torch max abs diff {max(manifest['export_max_abs_diff'].values()):.2e}"
    )


@app.command("eval")
def evaluate(
    out: Path = typer.Option(Path("runs") / "eval", "--out", help="Folder for results.json/.md and caches."),
    dataset: Dataset = DEFAULT_DATASET,
    shared: SharedData = DEFAULT_SHARED,
    splits: int = typer.Option(3, "--splits", min=1, help="Seen/unseen splits."),
    seeds: int = typer.Option(2, "--seeds", min=1, help="SA-DVAE seeds per split."),
    epochs: Epochs = 0,
    text_weight: TextWeight = 0.0,
    search: bool = typer.Option(
        False, "--search", help="Instead: score SA-DVAE settings on the cached validation features."
    ),
    protocol: str = typer.Option(
        "bandai-split",
        "--protocol",
        help="bandai-split: unseen Bandai classes (Bandai + synthetic clips only); cross-source: "
        "train on all other sources, classify a held-out source (cross_source.md/.json).",
    ),
    holdout: str = typer.Option(
        "all",
        "--holdout",
        help="cross-source: comma-separated held-out sources (default: utd-mhad, kinder-gator, "
        "nw-ucla, msr-action3d, citi, hdm05); penn-action adds Penn Action's real-video 2D joints "
        "(test only, z = 0).",
    ),
    threads: TorchThreads = 2,
    frame: Frame = "upright",
    latent_score: str = typer.Option(
        "linear", "--latent-score", help="cross-source: SA-DVAE latent scoring, linear or cosine."
    ),
    device: str = typer.Option("cpu", "--device", help="torch device of the backbones (cpu, cuda)."),
    camera_error: CameraError = False,
    source_balanced: SourceBalanced = False,
    smooth_sigma: SmoothSigma = 0.0,
    mask_weight: MaskWeight = 0.0,
    low_frame_rate: LowFrameRate = 0.0,
    placement_offset: PlacementOffset = 0.0,
    seed: int = typer.Option(
        0,
        "--seed",
        min=0,
        help="cross-source: seed of the validation split, the backbones and the latent models "
        "(another seed measures the spread of a recipe).",
    ),
) -> None:
    """Zero-shot evaluation on real-motion unseen classes: ZSL, GZSL S/U/H and the ablation table.

    Example: actzero eval --out runs/eval --splits 3 --seeds 2

    The Bandai-class split's backbones train 8 epochs unless --epochs says otherwise.

    Cross-source: actzero eval --protocol cross-source --out runs/cross_source (the
    evaluation backbones train 6 epochs unless --epochs says otherwise).

    Model selection: after one run, `actzero eval --out runs/eval --search` scores SA-DVAE
    settings on the validation pseudo-unseen classes (never the test classes).
    """
    from dataclasses import replace

    from rich.console import Console

    from actzero.training.dataset import SYNTHETIC_SOURCE, select_sources
    from actzero.training.evaluate import BANDAI_SPLIT_EPOCHS, EvalConfig, markdown_table, search_sadvae
    from actzero.training.evaluate import evaluate as run_evaluation

    console = Console()
    if protocol not in ("bandai-split", "cross-source"):
        console.print(f"[red]error:[/red] --protocol must be bandai-split or cross-source, not {protocol!r}")
        raise typer.Exit(1)
    try:
        data = _dataset(dataset, shared, 0)
    except (OSError, ValueError) as error:
        console.print(f"[red]error:[/red] {error}")
        raise typer.Exit(1) from None
    if frame not in CANONICAL_FRAMES or latent_score not in ("linear", "cosine"):
        console.print(
            f"[red]error:[/red] --frame must be one of {', '.join(CANONICAL_FRAMES)}, "
            "--latent-score linear or cosine"
        )
        raise typer.Exit(1)
    base = backbone_recipe(
        threads=threads,
        text_weight=text_weight,
        frame=frame,
        camera_error=camera_error,
        source_balanced=source_balanced,
        smooth_sigma=smooth_sigma,
        mask_weight=mask_weight,
        low_frame_rate=low_frame_rate,
        placement_offset=placement_offset,
        device=device,
    )
    if protocol == "cross-source":
        _cross_source(data, out, holdout, epochs, base, latent_score, console, shared, dataset.parent, seed)
        return
    data = select_sources(data, ("bandai-namco", SYNTHETIC_SOURCE))  # today's protocol, today's clips
    train_config = replace(base, epochs=epochs or BANDAI_SPLIT_EPOCHS)
    config = EvalConfig(splits=splits, seeds=tuple(range(seeds)), train=train_config)
    if search:
        try:
            search_sadvae(data, out, config, progress=lambda message: console.log(message))
        except ValueError as error:
            console.print(f"[red]error:[/red] {error}")
            raise typer.Exit(1) from None
        console.print(f"wrote {out / 'search.json'}")
        return
    try:
        results = run_evaluation(data, out, config, progress=lambda message: console.log(message))
    except ValueError as error:
        console.print(f"[red]error:[/red] {error}")
        raise typer.Exit(1) from None
    console.print(markdown_table(results["summary"]))
    console.print(
        f"GZSL settings for a bundle (medians over the full model's runs): "
        f"{results['recommended_calibration']}"
    )
    console.print(f"wrote {out / 'results.json'} and {out / 'results.md'} in {results['time_s']:.0f} s")


def _cross_source(
    data,
    out: Path,
    holdout: str,
    epochs: int,
    base,
    latent_score: str,
    console,
    shared: Path,
    cache: Path,
    seed: int = 0,
) -> None:
    """`actzero eval --protocol cross-source`: run it, print the table, write cross_source.md/.json.

    Penn Action's clips (extracted into `cache`) are added to the data set when it is held out.
    """
    import shlex
    import sys
    from dataclasses import replace

    from actzero.training import penn
    from actzero.training.cross_source import CrossSourceConfig, evaluate_cross_source

    config = CrossSourceConfig(seed=seed)
    if holdout.strip() != "all":
        config = replace(config, holdout=tuple(s.strip() for s in holdout.split(",") if s.strip()))
    if penn.SOURCE in config.holdout:
        try:
            data = penn.with_penn_action(data, shared, cache)
        except (OSError, ValueError) as error:
            console.print(f"[red]error:[/red] {error}")
            raise typer.Exit(1) from None
    train = replace(base, epochs=epochs or config.train.epochs)  # evaluation backbones: 6 epochs by default
    config = replace(config, train=train, latent_score=latent_score)
    command = shlex.join(["actzero", *sys.argv[1:]])
    try:
        results = evaluate_cross_source(data, out, config, progress=console.log, command=command)
    except ValueError as error:
        console.print(f"[red]error:[/red] {error}")
        raise typer.Exit(1) from None
    console.print((out / "cross_source.md").read_text())
    seconds = results["time_s"]["total"]
    console.print(f"wrote {out / 'cross_source.md'} and {out / 'cross_source.json'} in {seconds:.0f} s")
