"""`actzero pose`: run MediaPipe Pose on a camera/video/folder and publish the poses over ZeroMQ."""

from __future__ import annotations

import typer

from actzero.cli.main import app
from actzero.cli.options import NumPoses


@app.command("pose")
def pose(
    source: str = typer.Option(
        "0",
        "--source",
        "-s",
        help="Camera index (0), 'sample' (bundled demo video), a video file or an image folder.",
    ),
    publish: str = typer.Option(
        "tcp://127.0.0.1:5555",
        "--publish",
        "-p",
        help="ZeroMQ endpoint to bind: tcp://HOST:PORT or ipc://PATH.",
    ),
    allow_remote: bool = typer.Option(
        False,
        "--allow-remote",
        help="Allow binding to a non-loopback interface (reachable from the network).",
    ),
    name: str | None = typer.Option(
        None, "--name", help="Source id in the messages (default: cam0 / file name)."
    ),
    realtime: bool = typer.Option(
        True,
        "--realtime/--every-frame",
        help="Video files: play at their frame rate dropping late frames, or process all.",
    ),
    wait_for_subscriber: bool = typer.Option(
        False,
        "--wait-for-subscriber",
        help="Start only once a subscriber has connected (no frame is missed).",
    ),
    num_poses: NumPoses = 4,
    interval: float = typer.Option(2.0, "--stats-every", min=0.1, help="Seconds between status lines."),
) -> None:
    """Estimate poses and publish them (one ZeroMQ message per frame, see docs/protocol.md).

    Example: actzero pose --source sample --publish tcp://127.0.0.1:5555

    Stop with Ctrl-C.
    """
    import logging
    import signal
    import threading

    import zmq
    from rich.console import Console

    from actzero.stream.capture import CaptureError
    from actzero.stream.publisher import PublisherConfig, PublisherStats, run_publisher
    from actzero.stream.security import ExposureError

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(message)s")
    console = Console(stderr=True)
    stop = threading.Event()

    def report(stats: PublisherStats) -> None:
        console.print(
            f"[bold]{stats.source}[/] {stats.published} frames | {stats.fps:5.1f} fps | "
            f"pose {stats.pose_ms:5.1f} ms | persons {stats.persons} | dropped {stats.dropped}"
        )

    config = PublisherConfig(
        source=source,
        address=publish,
        name=name,
        realtime=realtime,
        wait_for_subscriber=wait_for_subscriber,
        allow_remote=allow_remote,
        num_poses=num_poses,
        stats_interval_s=interval,
    )
    console.print(f"publishing poses of {source!r} on {publish} (Ctrl-C to stop)")
    previous = signal.signal(signal.SIGINT, lambda *_: stop.set())  # Ctrl-C ends the loop cleanly
    try:
        final = run_publisher(config, stop, on_stats=report)
    except (CaptureError, ExposureError, FileNotFoundError) as error:
        console.print(f"[red]error:[/] {error}")
        raise typer.Exit(1) from None
    except zmq.ZMQError as error:
        console.print(f"[red]error:[/] cannot bind {publish}: {error}")
        raise typer.Exit(1) from None
    finally:
        signal.signal(signal.SIGINT, previous)
    console.print(
        f"done: {final.published} frames published, {final.captured} captured, "
        f"{final.dropped} dropped, {final.elapsed_s:.1f} s"
    )
