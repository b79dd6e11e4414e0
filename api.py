"""The Python API: recognise actions in skeleton clips, pose frames and videos.

Example::

    from actzero.api import Recognizer, annotate_video

    rec = Recognizer()                                   # the shipped bundle and its actions
    rec.add_action("jumping jacks", ["jumps spreading the legs while raising both arms overhead"])
    print(rec.classify_skeleton(joints, fps=30))         # joints: (T, 25, 3) NTU-25, metres, y up
    annotation = annotate_video("clip.mp4", rec)         # per person: time segments with labels

The commands (`actzero classify`, `annotate`, `live`) are thin layers over these names.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from actzero.model.actions import Action
from actzero.model.bundle import Bundle
from actzero.model.plausibility import check_plausible_body
from actzero.model.zeroshot import Prediction
from actzero.stream.annotate import Annotation, Segment
from actzero.stream.frames import PoseFrame
from actzero.stream.results import ActionResult
from actzero.stream.worker import WorkerConfig, WorkerCore

__all__ = [
    "Action",
    "ActionResult",
    "ActionsFileError",
    "Annotation",
    "PoseFrame",
    "Prediction",
    "Recognizer",
    "Segment",
    "annotate_video",
    "read_actions_file",
]

CLIP_STRIDE_FRACTION = 0.5  # long clips: windows overlap by half a window


class ActionsFileError(ValueError):
    """An actions text file that cannot be used (the message names the file and line)."""


def read_actions_file(path: str | Path) -> list[Action]:
    """Read a label set from a text file of ``name: description`` lines.

    Blank lines and lines starting with ``#`` are ignored; the name is everything before the
    first colon. The same name on several lines gives that action several descriptions.
    Actions keep the order of their first line.

    Raises:
        ActionsFileError: unreadable file, a line without ``name: description``, an invalid
            name or description (see model/registry.py `validate_action`), or no action at all.
    """
    from actzero.model.registry import ActionError, validate_action

    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ActionsFileError(f"cannot read actions file {path}: {exc}") from None
    texts: dict[str, list[str]] = {}
    names: dict[str, str] = {}
    lines: dict[str, int] = {}
    for lineno, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        name, colon, description = stripped.partition(":")
        name, description = " ".join(name.split()), description.strip()
        if not colon or not name or not description:
            raise ActionsFileError(f"{path}:{lineno}: expected 'name: description', found {stripped[:60]!r}")
        key = name.casefold()
        names.setdefault(key, name)
        lines.setdefault(key, lineno)
        texts.setdefault(key, []).append(description)
    if not texts:
        raise ActionsFileError(f"{path}: no actions (expected lines like 'wave: moves a raised hand')")
    actions = []
    for key, descriptions in texts.items():
        try:
            actions.append(validate_action(names[key], descriptions))
        except ActionError as exc:
            raise ActionsFileError(f"{path}:{lines[key]}: {exc}") from None
    return actions


class Recognizer:
    """A model bundle plus a label set: classifies skeleton clips and streams of pose frames.

    Args:
        bundle: a loaded `Bundle`, a bundle folder, or None for the shipped default bundle.
        actions: the label set; None = the bundle's own actions.
        config: sliding-window settings for `process` (stride, smoothing, ...).
        threads: onnxruntime threads per session when the bundle is loaded here.

    Raises:
        actzero.model.bundle.BundleError: the bundle cannot be loaded.
        ValueError: an empty label set or duplicate names.
    """

    def __init__(
        self,
        bundle: Bundle | str | Path | None = None,
        actions: Sequence[Action] | None = None,
        *,
        config: WorkerConfig | None = None,
        threads: int = 1,
    ) -> None:
        self.bundle = bundle if isinstance(bundle, Bundle) else Bundle.load(bundle, intra_op_threads=threads)
        self.core = WorkerCore(self.bundle, actions, config)

    @classmethod
    def from_registry(
        cls, bundle: Bundle | str | Path | None = None, registry: Path | None = None, **kwargs
    ) -> Recognizer:
        """A recognizer for the user's registered actions (`actzero actions ...`).

        Args:
            bundle: as for `Recognizer`.
            registry: the registry file; None = the user's default one.
            **kwargs: passed on to `Recognizer`.

        Raises:
            actzero.model.registry.RegistryError: the registry cannot be read.
        """
        from actzero.model import registry as reg

        opened = bundle if isinstance(bundle, Bundle) else Bundle.load(bundle)
        actions = reg.load_actions(registry, bundle_manifest=opened.manifest_path)
        return cls(opened, actions or None, **kwargs)

    # ----- the label set -----------------------------------------------------------------
    @property
    def actions(self) -> list[Action]:
        """The current label set."""
        return self.core.actions

    @property
    def labels(self) -> list[str]:
        """The current label names, in classifier order."""
        return self.core.labels

    def set_actions(self, actions: Sequence[Action]) -> None:
        """Replace the label set (refits the zero-shot classifier, well under a second)."""
        self.core.set_actions(actions)

    def add_action(self, name: str, descriptions: str | Sequence[str]) -> Action:
        """Add an action described in plain English (an existing name gets the new descriptions).

        Returns:
            The normalised action.

        Raises:
            actzero.model.registry.ActionError: empty or overlong name or descriptions.
        """
        from actzero.model.registry import validate_action

        action = validate_action(name, [descriptions] if isinstance(descriptions, str) else descriptions)
        key = action.name.casefold()
        others = [a for a in self.actions if a.name.casefold() != key]
        self.set_actions([*others, action])
        return action

    def remove_action(self, name: str) -> None:
        """Remove an action by name (case-insensitive).

        Raises:
            KeyError: no such action.
            ValueError: it is the last one.
        """
        key = " ".join(name.split()).casefold()
        keep = [a for a in self.actions if a.name.casefold() != key]
        if len(keep) == len(self.actions):
            raise KeyError(f"no action named {name!r}")
        self.set_actions(keep)

    # ----- classification ----------------------------------------------------------------
    def _clip_window_batches(self, joints: np.ndarray, fps: float):
        """Check a clip and yield its model windows in batches (model/windows.py)."""
        from actzero.model import windows

        joints = np.asarray(joints, dtype=np.float32)
        if joints.ndim != 3 or joints.shape[1:] != (25, 3) or len(joints) == 0:
            raise ValueError(f"expected joints shaped (T, 25, 3) with T >= 1, got {joints.shape}")
        fps = windows.check_fps(fps, "the clip's frame rate")
        window = self.bundle.window
        windows.check_clip_duration(len(joints), fps, self.bundle.fps)
        return windows.clip_window_batches(
            joints,
            fps,
            self.bundle.fps,
            window,
            max(1, int(window * CLIP_STRIDE_FRACTION)),
            self.bundle.canonical_frame,
        )

    def clip_windows(self, joints: np.ndarray, fps: float = 30.0) -> np.ndarray:
        """The canonical model windows (N, window, 25, 3) that `classify_skeleton` averages over.

        The clip is resampled to the bundle's rate and cut by model/windows.py: a clip no
        longer than the window gives one window (canonicalised, then padded by holding its
        last frame, like the live worker's first windows and training's short clips); a
        longer one gives windows every half window, the last one ending at the clip's end.
        Windows that cannot be canonicalised (no usable torso) are left out.

        Raises:
            ValueError: joints not shaped (T, 25, 3), an fps outside 5..1000, a clip shorter
                than 24 model frames or longer than an hour (`WindowError`), or no usable
                window (`CanonicalisationError`).
        """
        return np.concatenate(list(self._clip_window_batches(joints, fps)))

    def classify_skeleton(self, joints: np.ndarray, fps: float = 30.0, top_k: int = 5) -> Prediction:
        """Classify one skeleton clip.

        Windows are made and encoded a batch at a time, so memory stays bounded however long
        the clip (up to model/windows.py `MAX_CLIP_SECONDS`).

        Args:
            joints: (T, 25, 3) NTU-25 joints, metres, y up; NaN for missing joints.
            fps: the clip's frame rate (5 to 1000).
            top_k: classes listed in `Prediction.top_k`.

        Returns:
            The prediction from the class probabilities averaged over the clip's windows
            (see `clip_windows`); `label` is None for "no action".

        Raises:
            ValueError: a malformed, too short or too long clip, a bad fps, or a clip
                without a usable skeleton.
        """
        batches = self._clip_window_batches(joints, fps)  # checks the clip first
        check_plausible_body(np.asarray(joints, dtype=np.float32))  # noise is "no body", not an action
        classifier = self.core.classifier  # the current label set's, fitted once by `set_actions`
        total, count = np.zeros(len(classifier.labels), dtype=np.float64), 0
        for batch in batches:
            total += classifier.probabilities(batch).sum(axis=0, dtype=np.float64)
            count += len(batch)
        return classifier.decide((total / count).astype(np.float32)[None], top_k=top_k)[0]

    def process(self, frame: PoseFrame) -> list[ActionResult]:
        """Feed one pose frame (of any source); returns the results of windows that became ready."""
        return self.core.process(frame)

    def annotate(self, path: str | Path, **kwargs) -> Annotation:
        """`annotate_video(path, self, **kwargs)`."""
        return annotate_video(path, self, **kwargs)


def annotate_video(path: str | Path, recognizer: Recognizer | None = None, **kwargs) -> Annotation:
    """Recognise what every person in a video does, over time.

    Args:
        path: a video file.
        recognizer: the model and label set; None = `Recognizer.from_registry()`.
        **kwargs: `pose_options`, `progress`, `keep_poses` of
            `actzero.stream.annotate.annotate_video`.

    Returns:
        Per tracked person, the time segments with their labels (`Annotation.to_json()`
        gives the documented JSON).

    Raises:
        actzero.stream.capture.CaptureError: the file is missing or not a readable video.
    """
    from actzero.stream import annotate

    recognizer = recognizer or Recognizer.from_registry()
    return annotate.annotate_video(Path(path), recognizer.core, **kwargs)
