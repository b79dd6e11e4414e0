"""`actzero worker` (the ZeroMQ action-recognition service) and `actzero keys` (CURVE keys)."""

from __future__ import annotations

from pathlib import Path
from typing import NoReturn

import typer

from actzero.cli.main import app

keys_app = typer.Typer(help="CURVE keys for a worker's control socket off loopback.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")


def _fail(message: str) -> NoReturn:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(1)


def _split(values: list[str]) -> tuple[str, ...]:
    """Repeated options, each possibly comma-separated."""
    return tuple(item.strip() for value in values for item in value.split(",") if item.strip())


@app.command("worker")
def worker(
    poses: list[str] = typer.Option(
        ["tcp://127.0.0.1:5555"], "--poses", help="Pose publisher(s) to connect to (repeatable)."
    ),
    results: str = typer.Option("tcp://127.0.0.1:5556", "--results", help="Bind the result publisher here."),
    control: str = typer.Option("tcp://127.0.0.1:5557", "--control", help="Bind the control socket here."),
    topic: list[str] = typer.Option(
        ["pose/"], "--topic", help="Subscription prefix(es): 'pose/' = every source, 'pose/cam1' = one."
    ),
    bundle: Path | None = typer.Option(None, "--bundle", help="Model bundle folder (default: shipped one)."),
    stride: int = typer.Option(8, "--stride", min=1, help="Classify each person every N frames (at 30 fps)."),
    min_frames: int = typer.Option(24, "--min-frames", min=2, help="Shortest track classified (frames)."),
    registry: Path | None = typer.Option(
        None, "--registry", help="Action registry file (default: the user's, see `actzero actions`)."
    ),
    memory_only: bool = typer.Option(
        False, "--memory-only", help="Start from the bundle's actions and never write the registry."
    ),
    allow_remote: bool = typer.Option(
        False, "--allow-remote", help="Allow binding results/control to non-loopback addresses."
    ),
    curve_secret: Path | None = typer.Option(
        None, "--curve-secret", help="Control server's .key_secret file (required off loopback)."
    ),
    curve_clients: Path | None = typer.Option(
        None, "--curve-clients", help="Folder of authorised client .key files (required off loopback)."
    ),
    threads: int = typer.Option(1, "--threads", min=1, help="onnxruntime threads per session."),
    report_every: float = typer.Option(10.0, "--report-every", help="Log a status line every N s (0: off)."),
) -> None:
    """Run the action-recognition worker: pose frames in over ZeroMQ, action results out.

    Subscribes to pose publishers, tracks every person, classifies sliding windows and
    publishes results as JSON on topic result/<source>; answers control requests
    (list/add/remove actions, status) on --control. Stop with Ctrl-C.

    Example: actzero worker --poses tcp://127.0.0.1:5555 --results tcp://127.0.0.1:5556
    """
    import logging
    import signal
    import threading

    import zmq

    from actzero.model import registry as reg
    from actzero.model.bundle import Bundle, BundleError
    from actzero.model.labelset import load_label_set
    from actzero.stream.security import ExposureError
    from actzero.stream.worker import WorkerConfig, WorkerCore
    from actzero.stream.worker_zmq import ServiceConfig, WorkerService, check_exposure

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    registry_path = None if memory_only else (registry or reg.default_registry_path())
    config = ServiceConfig(
        poses=_split(poses),
        results=results,
        control=control,
        topics=_split(topic),
        allow_remote=allow_remote,
        curve_secret=curve_secret,
        curve_clients=curve_clients,
        registry=registry_path,
    )
    try:
        check_exposure(config, warn=False)  # before the slow part (the service warns later)
        typer.echo("loading the model bundle and fitting the actions...")
        opened = Bundle.load(bundle, intra_op_threads=threads)
        labels = None
        if registry_path is not None:
            labels = load_label_set(registry=registry_path, bundle_manifest=opened.manifest_path)
        core = WorkerCore(opened, labels or None, WorkerConfig(stride=stride, min_frames=min_frames))
        core.warm_up()
        service = WorkerService(core, config)
    except (ExposureError, BundleError, reg.RegistryError) as exc:
        _fail(str(exc))
    except zmq.ZMQError as exc:
        _fail(f"cannot open the sockets: {exc}")
    except ValueError as exc:
        _fail(f"cannot use the registered actions: {exc}")
    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    typer.echo(
        f"worker: {len(core.actions)} actions; poses from {', '.join(config.poses)}; "
        f"results on {service.results_endpoint}; control on {service.control_endpoint}"
        + ("" if registry_path is None else f"; registry {registry_path}")
    )
    try:
        service.run(stop, report_every_s=report_every)
    finally:
        service.close()


@keys_app.command("create")
def create_keys(
    directory: Path = typer.Argument(..., help="Folder to write the key files into."),
    name: str = typer.Option("server", "--name", help="Key name: files NAME.key and NAME.key_secret."),
) -> None:
    """Create a CURVE keypair: NAME.key (public, share it) and NAME.key_secret (keep private).

    A worker whose control socket is off loopback needs its own keypair (--curve-secret
    server.key_secret) and a folder with the public keys of the clients it trusts
    (--curve-clients); each client uses its .key_secret and the worker's server.key.

    Example: actzero keys create ~/.config/actzero/keys --name server
    """
    from actzero.stream.security import create_keypair

    if not name or "/" in name or name.startswith("."):
        _fail(f"invalid key name {name!r}")
    try:
        public, secret = create_keypair(directory, name)
    except (FileExistsError, OSError) as exc:
        _fail(str(exc))
    typer.echo(f"public key: {public}\nsecret key: {secret} (keep it private)")
