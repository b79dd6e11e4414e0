"""actzero: real-time, zero-shot, skeleton-based human action recognition."""

__version__ = "0.1.0"

from actzero.api import Action, Annotation, Prediction, Recognizer, annotate_video, read_actions_file  # noqa: E402,F401
