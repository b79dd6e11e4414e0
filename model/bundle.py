"""A trained model bundle: manifest + ONNX networks, loaded with onnxruntime only.

Folder layout (see docs/model.md):

- manifest.json: format/version, layout, window, fps, canonical_frame (model/canonical.py
  `CANONICAL_FRAMES`; "upright" when absent, as in bundles made before it existed), shipped
  actions (the backbone's seen classes, in logit order), sizes, calibration, provenance, licence, metrics;
- skeleton.onnx: canonical windows (N, window, 25, 3) -> features f_x, seen-class logits,
  z_r means (the backbone fused with the skeleton VAE encoder);
- text_vae.onnx: sentence embeddings (N, 384) -> mean and log-variance of z_y;
- text_embeddings.npz: the shipped descriptions' sentence embeddings (a cache, so
  fitting a classifier for shipped actions needs no text encoder run);
- text_projection.npz (when the manifest's classifier has `latent_space` "text" or "two-way"): the
  linear map (weight, bias) from the skeleton features f_x to the sentence-embedding space
  (training/projection.py). The latent classifier then compares a window's projection with each
  label's description embeddings instead of z_r with their text-VAE latents ("sadvae", the
  default when absent). "two-way" adds reverse_weight and reverse_bias, the map from a label's
  embedding to the features expected of it, and scores the mean of the two cosines.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from actzero.model.actions import Action
from actzero.model.canonical import CANONICAL_FRAMES, UPRIGHT
from actzero.model.zeroshot import Calibration, TextProjection, ZeroShotClassifier, fit_zero_shot

DEFAULT_BUNDLE = Path(__file__).resolve().parent / "assets" / "default_bundle"
FORMAT = "actzero-bundle"
VERSION = 1
MANIFEST = "manifest.json"
SKELETON_ONNX = "skeleton.onnx"
TEXT_VAE_ONNX = "text_vae.onnx"
TEXT_CACHE = "text_embeddings.npz"
TEXT_PROJECTION = "text_projection.npz"
LATENT_SPACES = ("sadvae", "text", "two-way")  # where the latent classifier compares windows with labels


class BundleError(ValueError):
    """The bundle folder is missing, incomplete or of an unknown format."""


def _session(path: Path, threads: int) -> Any:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    return ort.InferenceSession(str(path), sess_options=options, providers=["CPUExecutionProvider"])


@dataclass
class Bundle:
    """An opened bundle; create it with `Bundle.load`."""

    path: Path
    manifest: dict
    window: int
    fps: float
    actions: list[Action]
    calibration: Calibration
    skeleton_session: Any = field(repr=False)
    text_vae_session: Any = field(repr=False)
    text_cache: dict[str, np.ndarray] = field(default_factory=dict, repr=False)
    text_encoder: Any = field(default=None, repr=False)
    canonical_frame: str = UPRIGHT
    projection: TextProjection | None = field(default=None, repr=False)
    _centre: np.ndarray | None = field(default=None, repr=False)

    @classmethod
    def load(cls, path: Path | str | None = None, *, intra_op_threads: int = 1) -> Bundle:
        """Open a bundle folder (None = the shipped default bundle).

        Args:
            path: Bundle folder.
            intra_op_threads: onnxruntime intra-op threads per session.

        Returns:
            The opened bundle.

        Raises:
            BundleError: If the folder or a file is missing, the manifest is not a bundle, or a file
                is corrupt (manifest fields, text cache, ONNX networks).
        """
        folder = Path(path) if path is not None else DEFAULT_BUNDLE
        manifest_path = folder / MANIFEST
        if not manifest_path.is_file():
            raise BundleError(f"no {MANIFEST} in {folder} (is this a model bundle folder?)")
        try:
            manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise BundleError(f"{manifest_path} is not valid JSON: {exc}") from exc
        if not isinstance(manifest, dict):
            raise BundleError(f"{manifest_path} must hold a JSON object")
        if manifest.get("format") != FORMAT or manifest.get("version") != VERSION:
            raise BundleError(
                f"{manifest_path}: expected format {FORMAT!r} version {VERSION}, "
                f"got {manifest.get('format')!r} version {manifest.get('version')!r}"
            )
        for name in (SKELETON_ONNX, TEXT_VAE_ONNX):
            if not (folder / name).is_file():
                raise BundleError(f"bundle file {folder / name} is missing")
        try:
            cache: dict[str, np.ndarray] = {}
            if (folder / TEXT_CACHE).is_file():
                with np.load(folder / TEXT_CACHE) as data:
                    cache = dict(
                        zip(data["texts"].tolist(), data["embeddings"].astype(np.float32), strict=True)
                    )
            actions = [Action(a["name"], tuple(a["descriptions"])) for a in manifest["actions"]]
            window, fps = int(manifest["window"]), float(manifest["fps"])
            calibration = Calibration.from_dict(manifest["calibration"])
            canonical_frame = manifest.get("canonical_frame", UPRIGHT)
            if canonical_frame not in CANONICAL_FRAMES:
                known = ", ".join(CANONICAL_FRAMES)
                raise ValueError(f"canonical_frame {canonical_frame!r} in {MANIFEST} is not one of {known}")
            space = manifest.get("classifier", {}).get("latent_space", "sadvae")
            if space not in LATENT_SPACES:
                known = ", ".join(LATENT_SPACES)
                raise ValueError(f"classifier latent_space {space!r} is not one of {known}")
            projection = None
            if space != "sadvae":
                if not (folder / TEXT_PROJECTION).is_file():
                    raise BundleError(f"bundle file {folder / TEXT_PROJECTION} is missing")
                names = ("weight", "bias") + (
                    ("reverse_weight", "reverse_bias") if space == "two-way" else ()
                )
                with np.load(folder / TEXT_PROJECTION) as data:
                    projection = TextProjection(*(data[n].astype(np.float32) for n in names))
        except KeyError as exc:
            raise BundleError(
                f"{folder}: missing field {exc} in {MANIFEST}, {TEXT_CACHE} or {TEXT_PROJECTION}"
            ) from exc
        except (TypeError, ValueError, OSError) as exc:  # wrong types, a corrupt .npz
            raise BundleError(f"{folder}: invalid bundle contents: {exc}") from exc
        try:
            sessions = [_session(folder / name, intra_op_threads) for name in (SKELETON_ONNX, TEXT_VAE_ONNX)]
        except Exception as exc:  # onnxruntime's own exception types (corrupt or incompatible model)
            raise BundleError(f"{folder}: cannot load the ONNX networks: {exc}") from exc
        return cls(
            path=folder,
            manifest=manifest,
            window=window,
            fps=fps,
            actions=actions,
            calibration=calibration,
            skeleton_session=sessions[0],
            text_vae_session=sessions[1],
            text_cache=cache,
            canonical_frame=canonical_frame,
            projection=projection,
        )

    @property
    def manifest_path(self) -> Path:
        """The bundle's manifest file (`MANIFEST` in its folder)."""
        return Path(self.path) / MANIFEST

    def encode_windows(self, windows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Run the skeleton network: (seen logits (N, S), latents (N, d)) of canonical windows.

        The latents are where the latent classifier works: z_r means (d = dz_r) or, for a "text"
        bundle, the features projected into the sentence-embedding space (d = 384), followed by
        the features themselves for a "two-way" one (`TextProjection.window_latents`).
        """
        windows = np.ascontiguousarray(windows, dtype=np.float32)
        if windows.ndim != 4 or windows.shape[1:] != (self.window, 25, 3):
            raise ValueError(f"expected windows shaped (N, {self.window}, 25, 3), got {windows.shape}")
        features, logits, z_r = self.skeleton_session.run(None, {"windows": windows})
        return logits, (z_r if self.projection is None else self.projection.window_latents(features))

    def embed_texts(self, texts: Sequence[str]) -> np.ndarray:
        """Sentence embeddings (N, 384), from the shipped cache or the runtime text encoder."""
        missing = sorted({t for t in texts if t not in self.text_cache})
        if missing:
            if self.text_encoder is None:
                from actzero.model.text_encoder import TextEncoder

                self.text_encoder = TextEncoder.load()
            for text, emb in zip(missing, self.text_encoder.encode(missing), strict=True):
                self.text_cache[text] = np.asarray(emb, dtype=np.float32)
        return np.stack([self.text_cache[t] for t in texts]).astype(np.float32)

    def text_latents(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """Mean and log-variance of z_y for each text, (N, dz_r) each."""
        mu, logvar = self.text_vae_session.run(None, {"text": self.embed_texts(texts)})
        return mu, logvar

    def label_latents(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """Where each text sits in the latent classifier's space: (means, log-variances), (N, d) each.

        z_y of the text VAE, or for a "text" bundle the sentence embedding itself (log-variance 0),
        followed by the features expected of it for a "two-way" one.
        """
        if self.projection is not None:
            latents = self.projection.label_latents(self.embed_texts(texts))
            return latents, np.zeros_like(latents)
        return self.text_latents(texts)

    def latent_centre(self) -> np.ndarray:
        """Mean over the shipped actions of their descriptions' mean latent (the "cosine" centre)."""
        if self._centre is None:
            texts = [list(a.descriptions) or [a.name] for a in self.actions]
            mu, _ = self.label_latents([t for group in texts for t in group])
            bounds = np.cumsum([0] + [len(t) for t in texts])
            protos = [mu[a:b].mean(axis=0) for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
            self._centre = np.mean(protos, axis=0).astype(np.float32)
        return self._centre

    def fit_classifier(self, actions: Sequence[Action], seed: int = 0) -> ZeroShotClassifier:
        """Fit a zero-shot classifier for a label set (shipped and/or new actions).

        Actions whose name matches a shipped action (case-insensitive) also use the
        backbone's own classifier; the others are recognised from their descriptions only.

        Args:
            actions: The label set; names must be unique.
            seed: Sampling seed (the fit is deterministic for a seed).

        Returns:
            The fitted classifier, ready for `probabilities` and `decide`.
        """
        names = [a.name for a in actions]
        if len({n.casefold() for n in names}) != len(names):
            raise ValueError(f"action names must be unique: {names}")
        if not names:
            raise ValueError("a classifier needs at least one action")
        shipped = {a.name.casefold(): i for i, a in enumerate(self.actions)}
        seen_index = np.array([shipped.get(n.casefold(), -1) for n in names], dtype=np.int64)
        texts_per_action = [list(a.descriptions) or [a.name] for a in actions]
        flat = [t for texts in texts_per_action for t in texts]
        mu, logvar = self.label_latents(flat)
        bounds = np.cumsum([0] + [len(t) for t in texts_per_action])
        settings = self.manifest.get("classifier", {})
        return fit_zero_shot(
            names,
            seen_index,
            [mu[a:b] for a, b in zip(bounds[:-1], bounds[1:], strict=True)],
            [logvar[a:b] for a, b in zip(bounds[:-1], bounds[1:], strict=True)],
            self.calibration,
            samples_per_class=int(settings.get("samples_per_class", 200)),
            steps=int(settings.get("steps", 150)),
            seed=seed,
            centre=self.latent_centre() if self.calibration.latent_score == "cosine" else None,
            encode=self.encode_windows,
            blocks=() if self.projection is None else self.projection.blocks,
        )
