"""The worker's control channel: JSON requests over ZeroMQ REQ/REP.

Requests (one JSON object per message):

- ``{"op": "list"}`` -> ``{"ok": true, "actions": [{"name", "descriptions"}, ...]}``
- ``{"op": "add", "name": str, "descriptions": [str, ...]}`` -> ``{"ok": true, "fit_s": float,
  "replaced": false, "actions": int}``; an existing name (compared case-insensitively) is
  refused: use "replace"
- ``{"op": "replace", "name": str, "descriptions": [str, ...]}`` -> ``{"ok": true, "fit_s": float,
  "replaced": true, "actions": int}``: an existing action gets the new descriptions, in place;
  an unknown name is refused
- ``{"op": "remove", "name": str}`` -> ``{"ok": true, "fit_s": float, "actions": int}``

add / replace / remove follow model/labelset.py's `LabelSet` (the same rules and error
messages as `actzero actions` and `Recognizer.add_action`); names and descriptions are
checked by its `validate_action`.
- ``{"op": "status"}`` -> ``{"ok": true, "status": {counters, timings, uptime_s, ...}}``

Any failure answers ``{"ok": false, "error": "..."}``. `parse_request` validates a raw
request; `send_request` is the client.
"""

from __future__ import annotations

import json
from pathlib import Path

import zmq

from actzero.model.labelset import ActionError, validate_action
from actzero.stream.protocol import json_object

MAX_REQUEST_BYTES = 64 * 1024
OPS = ("list", "add", "replace", "remove", "status")


class ControlError(ValueError):
    """A control request that cannot be served (the message is sent back as the error)."""


def parse_request(raw: bytes) -> dict:
    """Validate a raw control request and return it normalised.

    Raises:
        ControlError: not JSON, unknown op, or bad fields.
    """
    request = json_object(raw, MAX_REQUEST_BYTES, "request", ControlError)
    op = request.get("op")
    if op not in OPS:
        raise ControlError(f"unknown op {op!r}; expected one of {', '.join(OPS)}")
    if op in ("list", "status"):
        return {"op": op}
    name = request.get("name")
    if not isinstance(name, str):
        raise ControlError("'name' must be a string")
    if op == "remove":
        return {"op": op, "name": " ".join(name.split())}
    descriptions = request.get("descriptions")
    if not isinstance(descriptions, list):
        raise ControlError("'descriptions' must be a list of strings")
    try:
        action = validate_action(name, descriptions)
    except ActionError as exc:
        raise ControlError(str(exc)) from None
    return {"op": op, "name": action.name, "descriptions": list(action.descriptions)}


def send_request(
    address: str,
    request: dict,
    timeout_s: float = 2.0,
    *,
    server_key: Path | None = None,
    client_secret: Path | None = None,
) -> dict:
    """Send one control request to a worker and return its reply.

    Args:
        address: the worker's control endpoint, e.g. "tcp://127.0.0.1:5557".
        request: the request, e.g. {"op": "status"}.
        timeout_s: how long to wait for the reply.
        server_key: the worker's CURVE public key file (for a CURVE-protected control socket).
        client_secret: this client's CURVE `.key_secret` file (with `server_key`).

    Returns:
        The reply object ({"ok": true, ...} or {"ok": false, "error": ...}).

    Raises:
        TimeoutError: no reply within `timeout_s` (worker down, or CURVE keys refused).
    """
    from actzero.stream.security import secure_client

    ctx = zmq.Context.instance()
    sock = ctx.socket(zmq.REQ)
    sock.linger = 0
    try:
        if server_key is not None or client_secret is not None:
            if server_key is None or client_secret is None:
                raise ValueError("CURVE needs both server_key and client_secret")
            secure_client(sock, Path(server_key), Path(client_secret))
        sock.connect(address)
        # A REQ socket with no ready peer (worker down, CURVE handshake refused) blocks in send:
        # bound it by the same timeout.
        sock.sndtimeo = int(timeout_s * 1000)
        try:
            sock.send(json.dumps(request).encode())
        except zmq.Again:
            raise TimeoutError(f"no reply from {address} within {timeout_s:g} s (request not sent)") from None
        if not sock.poll(int(timeout_s * 1000), zmq.POLLIN):
            raise TimeoutError(f"no reply from {address} within {timeout_s:g} s")
        reply = json.loads(sock.recv())
    finally:
        sock.close()
    if not isinstance(reply, dict):
        raise ValueError(f"malformed reply from {address}")
    return reply
