"""Network exposure rules and ZeroMQ CURVE key helpers for the worker's sockets.

Sockets bind to loopback by default. Binding elsewhere needs an explicit opt-in
(`allow_remote`) and logs a warning; a control socket off loopback additionally
requires CURVE: the server's secret key plus a folder of authorised client public
keys (ZeroMQ certificate files as written by `create_keypair`).
"""

from __future__ import annotations

import logging
from pathlib import Path

import zmq
import zmq.auth
from zmq.auth.thread import ThreadAuthenticator

log = logging.getLogger("actzero.worker")

_LOOPBACK_HOSTS = {"localhost", "::1", "[::1]"}


class ExposureError(ValueError):
    """A socket address or key setup that the exposure rules forbid."""


def is_loopback(address: str) -> bool:
    """Whether a ZeroMQ endpoint is reachable only from this machine (ipc, inproc, loopback tcp)."""
    scheme, _, rest = address.partition("://")
    if scheme in ("ipc", "inproc"):
        return True
    if scheme != "tcp":
        return False
    host = rest.rsplit(":", 1)[0]
    return host in _LOOPBACK_HOSTS or host.startswith("127.")


def check_bind(address: str, *, allow_remote: bool, role: str, warn: bool = True) -> None:
    """Refuse a non-loopback bind address unless `allow_remote`; warn (if `warn`) when allowed.

    Raises:
        ExposureError: a remote address without `allow_remote`.
    """
    if is_loopback(address):
        return
    if not allow_remote:
        raise ExposureError(
            f"{role} address {address} is not on loopback; pass --allow-remote to expose it on the network"
        )
    if warn:
        log.warning("%s socket bound to %s: reachable from other machines", role, address)


def create_keypair(directory: Path, name: str) -> tuple[Path, Path]:
    """Write a CURVE keypair as `<name>.key` (public) and `<name>.key_secret` in `directory`.

    Returns:
        The public and secret key file paths.

    Raises:
        FileExistsError: a key with that name already exists (never overwritten).
    """
    directory = Path(directory)
    public, secret = directory / f"{name}.key", directory / f"{name}.key_secret"
    for path in (public, secret):
        if path.exists():
            raise FileExistsError(f"{path} already exists")
    directory.mkdir(parents=True, exist_ok=True)
    public_file, secret_file = zmq.auth.create_certificates(str(directory), name)
    Path(secret_file).chmod(0o600)
    return Path(public_file), Path(secret_file)


def load_keypair(secret_file: Path) -> tuple[bytes, bytes]:
    """Read (public, secret) from a `.key_secret` certificate file.

    Raises:
        ExposureError: missing file or no secret key in it.
    """
    try:
        public, secret = zmq.auth.load_certificate(str(secret_file))
    except (OSError, ValueError) as exc:
        raise ExposureError(f"cannot read CURVE secret key {secret_file}: {exc}") from None
    if not secret:
        raise ExposureError(f"{secret_file} holds no secret key (use the .key_secret file)")
    return public, secret


def load_public_key(public_file: Path) -> bytes:
    """Read the public key of a `.key` (or `.key_secret`) certificate file."""
    try:
        public, _ = zmq.auth.load_certificate(str(public_file))
    except (OSError, ValueError) as exc:
        raise ExposureError(f"cannot read CURVE public key {public_file}: {exc}") from None
    return public


def secure_server(socket: zmq.Socket, secret_file: Path, authorised_dir: Path) -> ThreadAuthenticator:
    """Make `socket` a CURVE server accepting only the client keys in `authorised_dir`.

    Call before bind. Returns the running authenticator; stop it when the socket closes.
    """
    authorised_dir = Path(authorised_dir)
    if not authorised_dir.is_dir() or not any(authorised_dir.glob("*.key")):
        raise ExposureError(f"no authorised client keys (*.key) in {authorised_dir}")
    public, secret = load_keypair(secret_file)
    auth = ThreadAuthenticator(socket.context, log=logging.getLogger("actzero.worker.auth"))
    auth.start()
    auth.configure_curve(domain="*", location=str(authorised_dir))
    socket.curve_publickey = public
    socket.curve_secretkey = secret
    socket.curve_server = True
    return auth


def secure_client(socket: zmq.Socket, server_key: Path, client_secret: Path) -> None:
    """Make `socket` a CURVE client of the server whose public key is in `server_key`. Call before connect."""
    public, secret = load_keypair(client_secret)
    socket.curve_publickey = public
    socket.curve_secretkey = secret
    socket.curve_serverkey = load_public_key(server_key)
