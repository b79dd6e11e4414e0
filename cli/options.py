"""Command-line options that several commands share, each declared once as a typed alias.

A command names the alias and keeps the default in its signature (typer takes an `Annotated`
option's default from there), e.g. `registry: Registry = None`. Only options whose flag, type,
limits and help text are the same everywhere belong here; one with its own wording in a
command stays in that command.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

# ----- the action registry and a running worker's control socket (`actzero actions ...`) ----------

Registry = Annotated[
    Path | None,
    typer.Option(
        "--registry",
        help="Registry file (default: $ACTZERO_CONFIG_DIR/actions.json or ~/.config/actzero/actions.json).",
    ),
]
RegistryBundle = Annotated[
    Path | None,
    typer.Option(
        "--bundle",
        help="Model bundle folder whose actions the registry starts from (default: the shipped bundle).",
    ),
]
Control = Annotated[
    str | None,
    typer.Option(
        "--control",
        help="Also apply the change to a running worker at this control endpoint, e.g. "
        "tcp://127.0.0.1:5557 (use it whenever a worker runs on this registry: its next change "
        "rewrites the file with its own set).",
    ),
]
CONTROL_TIMEOUT_S = 10.0
ControlTimeout = Annotated[float, typer.Option("--timeout", min=0.1, help="Seconds to wait for the worker.")]
ServerKey = Annotated[Path | None, typer.Option("--server-key", help="Worker's CURVE public key file.")]
ClientSecret = Annotated[
    Path | None,
    typer.Option("--client-secret", help="This client's CURVE .key_secret file (with --server-key)."),
]

# ----- pose estimation (`live`, `pose`) ------------------------------------------------------------

NumPoses = Annotated[int, typer.Option("--num-poses", min=1, max=16, help="Most persons detected per frame.")]
Verbose = Annotated[bool, typer.Option("--verbose", help="Show MediaPipe's native start-up log.")]

# ----- training (`train`, `eval`) ----------------------------------------------------------------

DEFAULT_DATASET = Path("cache") / "dataset-v3.npz"
DEFAULT_SHARED = Path("..") / "shared"
Dataset = Annotated[Path, typer.Option("--dataset", help="Data set .npz (built if missing).")]
SharedData = Annotated[Path, typer.Option("--shared", help="Shared data folder (for building).")]
Epochs = Annotated[int, typer.Option("--epochs", min=0, help="Backbone epochs (0: the default schedule).")]
TextWeight = Annotated[
    float,
    typer.Option(
        "--text-weight", min=0.0, help="Weight of the backbone's skeleton-text alignment loss (0: off)."
    ),
]
TorchThreads = Annotated[int, typer.Option("--threads", min=1, help="torch CPU threads.")]
CameraError = Annotated[
    bool,
    typer.Option(
        "--camera-error",
        help="Train with the MediaPipe error model (jitter and depth scaling measured on real video; "
        "studies/camera_error.py).",
    ),
]
LowFrameRate = Annotated[
    float,
    typer.Option(
        "--low-frame-rate",
        min=0.0,
        max=1.0,
        help="Share of training windows seen as a 15 or 10 fps camera gives them: every 2nd or 3rd "
        "frame kept, the rest interpolated, as the worker resamples slow cameras and --pose-every "
        "(0: none).",
    ),
]
PlacementOffset = Annotated[
    float,
    typer.Option(
        "--placement-offset",
        min=0.0,
        max=0.5,
        help="Largest std, in body sizes, of a fixed per-joint offset added to training windows: "
        "joints placed elsewhere on the body, as another sensor places them (0: none).",
    ),
]
Frame = Annotated[
    str,
    typer.Option(
        "--frame",
        help="Canonical frame of the model input: gravity (world up kept, heading removed), limbs "
        "(gravity, read from the 13 limb joints every sensor places alike), upright (spine "
        "re-levelled, the bundles before issue 14) or image (2D: the camera's picture only).",
    ),
]
SmoothSigma = Annotated[
    float,
    typer.Option(
        "--smooth-sigma",
        min=0.0,
        max=8.0,
        help="Gaussian low-pass in time of the backbone's input, in model frames (0: none); part of "
        "the network, so the bundle applies it too. Kinect and camera joints carry more frame-to-frame "
        "jitter than motion capture (docs/model.md 'Temporal smoothing').",
    ),
]
MaskWeight = Annotated[
    float,
    typer.Option(
        "--mask-weight",
        min=0.0,
        help="Weight of a self-supervised masked-motion loss in backbone training: 40% of (joint, "
        "8-frame) cells hidden, their positions reconstructed from the feature map (0: none; "
        "training/masked_motion.py).",
    ),
]
SourceBalanced = Annotated[
    bool,
    typer.Option(
        "--source-balanced",
        help="Draw each class's training windows from each of its sources equally often (a class "
        "with hundreds of motion-capture clips and a few dozen Kinect clips shows both alike).",
    ),
]
