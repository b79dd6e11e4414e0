"""Network exposure rules and ZeroMQ CURVE key helpers for the worker's sockets.

Sockets bind to loopback by default. Binding elsewhere needs an explicit opt-in
(`allow_remote`) and logs a warning; a control socket off loopback additionally
requires CURVE: the server's secret key plus a folder of authorised client public
keys (ZeroMQ certificate files as written by `create_keypair`).
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

import zmq
import zmq.auth
from zmq.utils import z85

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


ZAP_ENDPOINT = "inproc://zeromq.zap.01"  # where libzmq asks a context's authentication handler


class CurveAuthenticator:
    """A ZAP handler thread for one context: CURVE clients whose public key is authorised pass.

    NULL-mechanism sockets of the same context (the worker's loopback sockets) are let through;
    any other mechanism, and any CURVE key not in the authorised set, is refused. The thread
    polls with a short timeout and watches a stop flag, so `stop` always returns (pyzmq's own
    ThreadAuthenticator joins an asyncio thread without a timeout, which can hang at shutdown).
    """

    def __init__(self, context: zmq.Context, authorised: set[bytes], poll_ms: int = 50) -> None:
        self.authorised = frozenset(authorised)
        self.refused = 0
        self._poll_ms = poll_ms
        self._stop = threading.Event()
        self._socket = context.socket(zmq.REP)
        self._socket.linger = 0
        self._socket.bind(ZAP_ENDPOINT)
        self._thread = threading.Thread(target=self._serve, name="actzero-zap", daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            if self._socket.poll(self._poll_ms):
                self._socket.send_multipart(self.answer(self._socket.recv_multipart()))

    def answer(self, request: list[bytes]) -> list[bytes]:
        """The ZAP reply (RFC 27: version, request id, status code, text, user id, metadata)."""
        if len(request) < 6 or request[0] != b"1.0":
            request_id = request[1] if len(request) > 1 else b""
            return [b"1.0", request_id, b"500", b"malformed ZAP request", b"", b""]
        request_id, mechanism, credentials = request[1], request[5], request[6:]
        if mechanism == b"NULL":
            return [b"1.0", request_id, b"200", b"OK", b"", b""]
        if mechanism == b"CURVE" and len(credentials) == 1 and credentials[0] in self.authorised:
            return [b"1.0", request_id, b"200", b"OK", z85.encode(credentials[0]), b""]
        self.refused += 1
        if self.refused <= 10 or self.refused % 1000 == 0:  # a refused client retries every 0.1 s
            log.warning(
                "refused %s client handshake #%d on the control socket",
                mechanism.decode(errors="replace"),
                self.refused,
            )
        return [b"1.0", request_id, b"400", b"not authorised", b"", b""]

    def stop(self, timeout_s: float = 5.0) -> None:
        """Stop the thread and close its socket."""
        self._stop.set()
        self._thread.join(timeout=timeout_s)
        if not self._thread.is_alive():
            self._socket.close(linger=0)


def load_authorised_keys(authorised_dir: Path) -> set[bytes]:
    """The raw 32-byte public keys of the `*.key` certificate files in `authorised_dir`.

    Raises:
        ExposureError: no such folder, or no readable key in it.
    """
    authorised_dir = Path(authorised_dir)
    files = sorted(authorised_dir.glob("*.key")) if authorised_dir.is_dir() else []
    if not files:
        raise ExposureError(f"no authorised client keys (*.key) in {authorised_dir}")
    return {z85.decode(load_public_key(f)) for f in files}


def secure_server(socket: zmq.Socket, secret_file: Path, authorised_dir: Path) -> CurveAuthenticator:
    """Make `socket` a CURVE server accepting only the client keys in `authorised_dir`.

    Call before bind. Returns the running authenticator; stop it when the socket closes.
    """
    authorised = load_authorised_keys(authorised_dir)
    public, secret = load_keypair(secret_file)
    auth = CurveAuthenticator(socket.context, authorised)
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
