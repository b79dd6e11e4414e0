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
from actzero.model.labelset import ActionError, ActionsFileError, LabelSet, load_label_set
from actzero.model.plausibility import check_plausible_body
from actzero.model.zeroshot import Prediction
from actzero.stream.annotate import Annotation, Segment
from actzero.stream.frames import PoseFrame
from actzero.stream.results import ActionResult
from actzero.stream.worker import WorkerConfig, WorkerCore

__all__ = [
    "Action",
    "ActionError",
    "ActionResult",
    "ActionsFileError",
    "Annotation",
    "LabelSet",
    "PoseFrame",
    "Prediction",
    "Recognizer",
    "Segment",
    "annotate_video",
    "read_actions_file",
]

CLIP_STRIDE_FRACTION = 0.5  # long clips: windows overlap by half a window


def read_actions_file(path: str | Path) -> list[Action]:
    """Read a label set from a text file of ``name: description`` lines (`LabelSet.from_file`).

    Raises:
        ActionsFileError: the file cannot be used (the message names the file and line).
    """
    return list(LabelSet.from_file(path))


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
    def from_actions(
        cls,
        actions_file: str | Path | None = None,
        *,
        bundle: Bundle | str | Path | None = None,
        registry: Path | None = None,
        **kwargs,
    ) -> Recognizer:
        """A recognizer for an actions file when one is given, else for the registered actions.

        This is the rule of every command's ``--actions`` option (model/labelset.py
        `load_label_set`).

        Args:
            actions_file: a text file of ``name: description`` lines, or None for the registry.
            bundle: as for `Recognizer`; the registry starts from its actions.
            registry: the registry file; None = the user's default one.
            **kwargs: passed on to `Recognizer`.

        Raises:
            ActionsFileError: the actions file cannot be used.
            actzero.model.registry.RegistryError: the registry cannot be read.
            actzero.model.bundle.BundleError: the bundle cannot be loaded.
        """
        threads = kwargs.get("threads", 1)
        opened = bundle if isinstance(bundle, Bundle) else Bundle.load(bundle, intra_op_threads=threads)
        labels = load_label_set(
            None if actions_file is None else Path(actions_file),
            registry=registry,
            bundle_manifest=opened.manifest_path,
        )
        return cls(opened, labels or None, **kwargs)

    @classmethod
    def from_registry(
        cls, bundle: Bundle | str | Path | None = None, registry: Path | None = None, **kwargs
    ) -> Recognizer:
        """A recognizer for the user's registered actions (`actzero actions ...`); see `from_actions`."""
        return cls.from_actions(None, bundle=bundle, registry=registry, **kwargs)

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

    @property
    def label_set(self) -> LabelSet:
        """The current label set as a `LabelSet` (its `add` / `replace` / `remove` rules apply here)."""
        return LabelSet(self.core.actions)

    def add_action(self, name: str, descriptions: str | Sequence[str]) -> Action:
        """Add an action described in plain English (`LabelSet.add`: an existing name is refused).

        Returns:
            The normalised action.

        Raises:
            ActionError: empty or overlong name or descriptions, or the name is taken
                (use `replace_action`).
        """
        labels = self.label_set.add(name, descriptions)
        self.set_actions(labels)
        return labels[-1]

    def replace_action(self, name: str, descriptions: str | Sequence[str]) -> Action:
        """Give an existing action new descriptions, in place (`LabelSet.replace`).

        Returns:
            The normalised action.

        Raises:
            ActionError: empty or overlong name or descriptions, or no action has that name.
        """
        labels = self.label_set.replace(name, descriptions)
        self.set_actions(labels)
        return labels.get(name)

    def remove_action(self, name: str) -> Action:
        """Remove an action by name (case-insensitive; `LabelSet.remove`).

        Returns:
            The removed action.

        Raises:
            ActionError: no such action, or it is the last one.
        """
        current = self.label_set
        removed = current.get(name)
        self.set_actions(current.remove(name))
        return removed

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
