"""Atomic file writes: readers see the old file or the new one, never a half-written one.

`atomic_path` yields a temporary path in the target's folder; when the block ends without an
error the temporary file is flushed to disk (fsync), renamed over the target (`os.replace`) and
the rename made durable (fsync of the folder); on an error it is removed and the target is
left as it was. Used by the action registry, annotate's outputs and training data sets.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path


def _new_file_mode() -> int:
    """0o666 less the process umask: the permissions `open()` would give a new file."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def _fsync(path: Path | str, flags: int) -> None:
    fd = os.open(path, flags)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_path(path: Path | str) -> Iterator[Path]:
    """Yield a temporary path beside `path`; on success it replaces `path`, on error it is removed.

    The temporary name keeps `path`'s suffix (some writers choose the format by it). The new
    file keeps the permissions of the file it replaces (ordinary ones for a new file).

    Raises:
        OSError: the folder cannot be created or written, or the rename fails (the target is
            then unchanged).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    mode = stat.S_IMODE(path.stat().st_mode) if path.is_file() else _new_file_mode()
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=f".partial{path.suffix}")
    os.close(fd)
    try:
        os.chmod(tmp, mode)  # mkstemp makes 0600
        yield Path(tmp)
        _fsync(tmp, os.O_RDONLY)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    if hasattr(os, "O_DIRECTORY"):  # make the rename itself durable (POSIX)
        _fsync(path.parent, os.O_RDONLY | os.O_DIRECTORY)


def write_text_atomic(path: Path | str, text: str) -> None:
    """Write a UTF-8 text file atomically (see `atomic_path`); newlines are written as given.

    Raises:
        OSError: the file cannot be written (the old one, if any, is unchanged).
    """
    with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8", newline="") as handle:
        handle.write(text)
