"""Child processes that end with their parent, whatever ends the parent (signal, crash, SIGKILL).

`actzero live` starts a pose process and a worker process. A parent that dies without running its
clean-up (killed, aborted by a native library) must not leave them running with their ports open.
Two mechanisms, both used by :func:`tie_to_parent` / :class:`ParentAwareStop`:

- Linux: ``prctl(PR_SET_PDEATHSIG, SIGTERM)``: the kernel sends the child SIGTERM when its parent
  dies. It is set in the child, so the child also checks that the parent did not die before that.
- Everywhere: the child's stop flag also reads as set once ``os.getppid()`` is no longer the parent
  (the orphan has been re-parented), so its loops end at their next poll.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
from typing import Protocol

_PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


class StopEvent(Protocol):
    """``threading.Event`` or ``multiprocessing.Event``."""

    def is_set(self) -> bool: ...


def parent_gone(parent_pid: int) -> bool:
    """True when this process is no longer the child of `parent_pid` (the parent has exited)."""
    return os.getppid() != parent_pid


def tie_to_parent(parent_pid: int) -> None:
    """Make this (child) process receive SIGTERM when its parent dies; exit now if it already has.

    SIGTERM's default action ends the process; this also installs that default, in case the
    process inherited a handler. Without Linux's prctl only the check of `parent_gone` applies.
    """
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if sys.platform.startswith("linux"):
        import ctypes

        with contextlib.suppress(OSError, AttributeError):
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGTERM), 0, 0, 0)
    if parent_gone(parent_pid):  # the parent died before prctl took effect
        os._exit(1)


class ParentAwareStop:
    """A stop flag that is also set when the parent process has exited.

    Args:
        stop: the event the parent sets to ask for a clean stop.
        parent_pid: the parent's pid, read in the parent (``os.getpid()``) and passed to the child.
    """

    def __init__(self, stop: StopEvent, parent_pid: int) -> None:
        self._stop = stop
        self._parent_pid = parent_pid

    def is_set(self) -> bool:
        """The parent asked to stop, or it is gone."""
        return self._stop.is_set() or parent_gone(self._parent_pid)
