"""actzero: real-time, zero-shot, skeleton-based human action recognition.

The package root holds only the version, so importing any part of actzero (e.g.
`actzero.model.skeleton`) loads nothing else; the Python API is `actzero.api`.
"""

from importlib import metadata as _metadata

try:
    __version__ = _metadata.version("actzero")
except _metadata.PackageNotFoundError:  # a source tree that was never installed
    __version__ = "0.0.0+unknown"
