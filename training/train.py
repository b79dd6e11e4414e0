"""Training: backbone on seen classes, features, SA-DVAE, calibration, and the default bundle.

`train_default_bundle` reproduces model/assets/default_bundle from the data set with a
fixed seed: it trains the backbone on all classes (a stratified 10% of clips held out
for temperature fitting), trains SA-DVAE on the backbone's features of the training
clips, and exports the ONNX bundle with its manifest.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from actzero.model import windows as model_windows
from actzero.model.canonical import UPRIGHT
from actzero.model.zeroshot import Calibration, softmax
from actzero.training.augment import AugmentConfig, augment_batch, mirror_label_map, sample_canonical_window
from actzero.training.backbone import BackboneConfig, GraphBackbone, count_macs
from actzero.training.masked_motion import MotionDecoder, masked_pass_loss
from actzero.training.sadvae import SADVAE, SADVAEConfig, train_sadvae
from actzero.training.text_alignment import TextProjection, sample_class_texts, text_alignment_loss

IDLE_NAMES = ("standing still", "stand still", "idle")
Progress = Callable[[str, float], None]  # (stage, fraction done)


@dataclass(frozen=True)
class TrainConfig:
    """Backbone training schedule and window settings.

    `canonical_frame` is the model's canonical frame (model/canonical.py `CANONICAL_FRAMES`),
    recorded in the bundle's manifest so that serving uses the same one.
    """

    window: int = 64
    canonical_frame: str = UPRIGHT
    epochs: int = 36  # the shipped schedule (docs/model.md "Training schedule")
    windows_per_epoch: int = 3072
    batch_size: int = 64
    lr: float = 2e-3
    weight_decay: float = 1e-4
    label_smoothing: float = 0.1
    feature_stride: int = 32
    threads: int = 2
    text_weight: float = 0.0  # weight of the skeleton-text alignment loss (0: cross-entropy only)
    text_temperature: float = 0.1
    mask_weight: float = 0.0  # weight of the masked-motion reconstruction loss (0: none)
    mask_ratio: float = 0.4  # share of (joint, feature-map step) cells hidden for that loss
    source_balanced: bool = False  # draw a class's windows from each of its sources equally often
    device: str = "cpu"  # torch device of backbone training ("cuda" on a GPU machine; bundles: cpu)
    backbone: BackboneConfig = field(default_factory=BackboneConfig)
    augment: AugmentConfig = field(default_factory=AugmentConfig)

    def to_dict(self) -> dict:
        """Plain-JSON form."""
        out = asdict(self)
        out["backbone"] = self.backbone.to_dict()
        return out


@dataclass
class ClipSet:
    """Raw clips (T, 25, 3) metres with labels indexing `names` (a view of a data set).

    `sources` (optional) names each clip's source, for source-balanced sampling.
    """

    clips: list[np.ndarray]
    labels: np.ndarray
    names: list[str]
    sources: np.ndarray | None = None

    def subset(self, index: Sequence[int] | np.ndarray, names: list[str] | None = None) -> ClipSet:
        """Clips at `index`; with `names`, labels are re-indexed into that list of class names."""
        index = np.asarray(index, dtype=np.int64)
        labels = self.labels[index]
        sources = None if self.sources is None else self.sources[index]
        clips = [self.clips[i] for i in index]
        if names is None:
            return ClipSet(clips, labels, list(self.names), sources)
        remap = {self.names.index(n): i for i, n in enumerate(names)}
        return ClipSet(clips, np.array([remap[int(c)] for c in labels]), list(names), sources)


def clips_from_dataset(dataset) -> ClipSet:
    """All clips of a `training.dataset.Dataset` as a `ClipSet` (with their sources)."""
    offsets = dataset.offsets
    clips = [dataset.frames[offsets[i] : offsets[i + 1]] for i in range(len(offsets) - 1)]
    labels = np.asarray(dataset.labels, dtype=np.int64)
    return ClipSet(clips, labels, [c.name for c in dataset.classes], np.asarray(dataset.sources))


def idle_label(names: Sequence[str]) -> str | None:
    """The idle ("standing still") class among `names`, if any."""
    for name in names:
        if name.casefold() in IDLE_NAMES:
            return name
    return None


def stratified_holdout(labels: np.ndarray, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Split clip indices per class into (kept, held out ~fraction, at least one kept per class)."""
    rng = np.random.default_rng(seed)
    kept, held = [], []
    for c in np.unique(labels):
        idx = rng.permutation(np.flatnonzero(labels == c))
        n_held = int(round(fraction * len(idx))) if len(idx) > 2 else 0
        held.extend(idx[:n_held])
        kept.extend(idx[n_held:])
    return np.sort(np.array(kept, dtype=np.int64)), np.sort(np.array(held, dtype=np.int64))


def clip_windows(clip: np.ndarray, window: int, stride: int, frame: str = UPRIGHT) -> np.ndarray:
    """Model windows (n, window, 25, 3) of a clip at the model rate (model/windows.py `clip_windows`)."""
    return model_windows.clip_windows(clip, window, stride, frame)


def windows_of_clips(
    clip_set: ClipSet, window: int, stride: int, frame: str = UPRIGHT
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Model windows of every clip: (windows, labels, clip index per window)."""
    ws, ys, cs = [], [], []
    for i, (clip, label) in enumerate(zip(clip_set.clips, clip_set.labels, strict=True)):
        w = clip_windows(clip, window, stride, frame)
        ws.append(w)
        ys.append(np.full(len(w), label, dtype=np.int64))
        cs.append(np.full(len(w), i, dtype=np.int64))
    return np.concatenate(ws), np.concatenate(ys), np.concatenate(cs)


def _epoch_windows(
    clip_set: ClipSet, config: TrainConfig, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Class-balanced random windows for one epoch (speed change, drops, canonicalised).

    With `config.source_balanced` (and `clip_set.sources`), a class's clip is drawn from one of
    its sources chosen uniformly, so a class that one source has hundreds of clips of and
    another a few dozen shows both renditions equally often.
    """
    by_class = [np.flatnonzero(clip_set.labels == c) for c in range(len(clip_set.names))]
    if config.source_balanced and clip_set.sources is not None:
        sources = clip_set.sources
        pools = [[idx[sources[idx] == s] for s in np.unique(sources[idx])] for idx in by_class]
    else:
        pools = [[idx] for idx in by_class]
    present = [c for c, idx in enumerate(by_class) if len(idx)]
    ws, ys = [], []
    for c in rng.choice(present, size=config.windows_per_epoch):
        pool = pools[c][int(rng.integers(len(pools[c])))] if len(pools[c]) > 1 else pools[c][0]
        clip = clip_set.clips[rng.choice(pool)]
        w = sample_canonical_window(clip, config.window, config.augment, rng, config.canonical_frame)
        if w is not None:
            ws.append(w)
            ys.append(c)
    return np.stack(ws).astype(np.float32), np.array(ys, dtype=np.int64)


def train_backbone(
    clip_set: ClipSet,
    config: TrainConfig,
    seed: int = 0,
    progress: Progress | None = None,
    class_texts: Sequence[np.ndarray] | None = None,
) -> GraphBackbone:
    """Train the graph backbone with cross-entropy on the clip set's classes (augmented windows).

    With `config.text_weight` > 0 a text-alignment loss (training/text_alignment.py) on a
    projection of f_x is added; the projection is kept as the `text_projection` submodule.
    With `config.mask_weight` > 0 a masked-motion reconstruction loss (training/masked_motion.py)
    on a second, masked pass of each batch is added; its decoder is kept as `motion_decoder`.

    Args:
        clip_set: Training clips; every class in `clip_set.names` is a logit.
        config: Schedule and augmentation.
        seed: Seed of initialisation, sampling and augmentation.
        progress: Optional callback (stage, fraction).
        class_texts: Per class of `clip_set.names`, its description embeddings (M_c, 384);
            required when `config.text_weight` > 0.

    Returns:
        The trained backbone in eval mode.
    """
    torch.manual_seed(seed)
    torch.set_num_threads(config.threads)
    rng = np.random.default_rng(seed)
    model = GraphBackbone(len(clip_set.names), config.backbone)
    if config.text_weight > 0:
        if class_texts is None or len(class_texts) != len(clip_set.names):
            raise ValueError("text_weight > 0 needs description embeddings for every training class")
        model.text_projection = TextProjection(model.feature_dim, np.asarray(class_texts[0]).shape[1])
        text_rng = np.random.default_rng([seed, 1])  # the window sampling stays as without the loss
    if config.mask_weight > 0:
        if config.window % model.temporal_stride:
            raise ValueError(f"mask_weight > 0 needs a window that is a multiple of {model.temporal_stride}")
        model.motion_decoder = MotionDecoder(model.feature_dim, model.temporal_stride)
        mask_generator = torch.Generator().manual_seed(seed + 1)
    device = torch.device(config.device)
    model.to(device)
    optimiser = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    steps_per_epoch = math.ceil(config.windows_per_epoch / config.batch_size)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(
        optimiser, max_lr=config.lr, total_steps=config.epochs * steps_per_epoch + 1, pct_start=0.15
    )
    mirror_map = mirror_label_map(clip_set.names)
    for epoch in range(config.epochs):
        windows, labels = _epoch_windows(clip_set, config, rng)
        windows, labels = augment_batch(
            windows, labels, mirror_map, config.augment, rng, config.canonical_frame
        )
        order = rng.permutation(len(windows))
        model.train()
        for b in range(0, len(order), config.batch_size):
            idx = order[b : b + config.batch_size]
            if len(idx) < 2:
                continue
            batch = torch.from_numpy(windows[idx]).to(device)
            features, logits = model(batch)
            target = torch.from_numpy(labels[idx]).to(device)
            loss = F.cross_entropy(logits, target, label_smoothing=config.label_smoothing)
            if config.text_weight > 0:
                texts = sample_class_texts(class_texts, text_rng).to(device)
                projected = model.text_projection(features)
                loss = loss + config.text_weight * text_alignment_loss(
                    projected, target, texts, config.text_temperature
                )
            if config.mask_weight > 0:
                loss = loss + config.mask_weight * masked_pass_loss(
                    model, batch, config.mask_ratio, mask_generator
                )
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            scheduler.step()
        if progress is not None:
            progress("backbone", (epoch + 1) / config.epochs)
    return model.cpu().eval()


@torch.no_grad()
def backbone_outputs(
    model: GraphBackbone, windows: np.ndarray, batch: int = 256
) -> tuple[np.ndarray, np.ndarray]:
    """Features f_x (N, F) and seen logits (N, S) of canonical windows."""
    feats, logits = [], []
    for i in range(0, len(windows), batch):
        f, z = model(torch.from_numpy(np.ascontiguousarray(windows[i : i + batch])))
        feats.append(f.numpy())
        logits.append(z.numpy())
    if not feats:
        return np.zeros((0, model.feature_dim), np.float32), np.zeros((0, model.num_classes), np.float32)
    return np.concatenate(feats), np.concatenate(logits)


def fit_temperature(logits: np.ndarray, labels: np.ndarray) -> float:
    """Temperature minimising the negative log-likelihood of held-out logits (grid search)."""
    if len(labels) == 0:
        return 1.0
    grid = np.exp(np.linspace(np.log(0.05), np.log(20.0), 80))
    best, best_nll = 1.0, np.inf
    for t in grid:
        z = logits / t
        z = z - z.max(axis=1, keepdims=True)
        nll = float(-(z[np.arange(len(labels)), labels] - np.log(np.exp(z).sum(axis=1))).mean())
        if nll < best_nll:
            best, best_nll = float(t), nll
    return best


def gate_threshold(seen_logits: np.ndarray, seen_temperature: float, retention: float) -> float:
    """Top seen probability above which a `retention` fraction of held-out seen windows lie."""
    z = seen_logits / seen_temperature
    z = z - z.max(axis=1, keepdims=True)
    top = 1.0 / np.exp(z).sum(axis=1)
    return float(np.quantile(top, 1.0 - retention)) if len(top) else 0.5


def embed_class_texts(
    descriptions: Sequence[Sequence[str]],
) -> tuple[list[np.ndarray], dict[str, np.ndarray]]:
    """Sentence embeddings per class (M_c, 384) and a text -> embedding cache."""
    from actzero.training.text_model import embed_texts_torch

    flat = sorted({t for texts in descriptions for t in texts})
    cache = dict(zip(flat, embed_texts_torch(flat), strict=True))
    return [np.stack([cache[t] for t in texts]) for texts in descriptions], cache


@torch.no_grad()
def text_latents(vae: SADVAE, embeddings: Sequence[np.ndarray]) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Text VAE means and log-variances per class."""
    mus, logvars = [], []
    for e in embeddings:
        mu, logvar = vae.text_encoder(torch.from_numpy(np.asarray(e, dtype=np.float32)))
        mus.append(mu.numpy())
        logvars.append(logvar.numpy())
    return mus, logvars


@torch.no_grad()
def semantic_means(vae: SADVAE, features: np.ndarray) -> np.ndarray:
    """z_r means (N, dz_r) of skeleton features."""
    return vae.semantic_mean(torch.from_numpy(np.asarray(features, dtype=np.float32))).numpy()


# GZSL settings of the shipped bundle: what `actzero eval` recommends for the full model
# (`recommended_calibration`: the combination with the best validation score, "mixture",
# and the medians of its fitted latent temperature, seen penalty and gate retention over
# 3 splits x 2 seeds; runs/eval_v4, docs/model.md). T_s and the gate threshold are refitted
# on the bundle's own held-out clips.
# Latent scoring, penalty and the K-relative "no action" rule: chosen for user-typed label sets on the
# bundle's held-out windows (studies/label_sets.py, docs/model.md "User-typed label sets"); penalty
# and rule refitted there for the two-way bundle and the gate on the backbone's full softmax
# (penalty 2: best H with distractor capture under 5% on all validation windows and on those the
# gate leaves to the latent side; a * K^-b rejecting 5% of in-set windows at every K).
DEFAULT_CALIBRATION = Calibration(
    method="mixture",
    latent_temperature=0.1,
    seen_penalty=2.0,
    threshold=1.0,
    latent_score="cosine",
    no_action="relative",
    relative_threshold=0.80,
    relative_exponent=0.21,
)
DEFAULT_RETENTION = 0.3


def no_action_rates(
    seen_logits: np.ndarray, labels: np.ndarray, names: Sequence[str], calib: Calibration
) -> dict:
    """How often held-out windows of the shipped label set come out as "no action".

    Uses the seen classifier with the calibrated temperature, the score threshold and the
    idle label, as the worker does for the shipped actions. Returns the share of idle-class
    windows said to be "no action" (should be high), of other windows (should be low), and the
    accuracy of the windows that did get a label.
    """
    probs = softmax(seen_logits / calib.seen_temperature)
    best = probs.argmax(axis=1)
    idle = names.index(calib.idle_label) if calib.idle_label in names else -1
    none = (probs.max(axis=1) < calib.no_action_threshold(len(names))) | (best == idle)
    is_idle = labels == idle
    labelled = ~none

    def share(mask: np.ndarray, of: np.ndarray) -> float | None:
        return round(float(mask[of].mean()), 4) if of.any() else None

    return {
        "idle_windows_no_action": share(none, is_idle),
        "other_windows_no_action": share(none, ~is_idle),
        "accuracy_when_labelled": share(best == labels, labelled),
        "windows": int(len(labels)),
    }


def train_default_bundle(
    dataset,
    out_dir: Path,
    seed: int = 0,
    config: TrainConfig | None = None,
    vae_config: SADVAEConfig | None = None,
    calibration: Calibration = DEFAULT_CALIBRATION,
    retention: float = DEFAULT_RETENTION,
    metrics: dict | None = None,
    progress: Progress | None = None,
    latent_space: str = "two-way",
) -> dict:
    """Train on all classes of `dataset` and write a bundle to `out_dir`.

    Args:
        dataset: A `training.dataset.Dataset`.
        out_dir: Bundle folder to write.
        seed: Seed of every random choice.
        config: Backbone schedule (defaults: `TrainConfig()`).
        vae_config: SA-DVAE settings (defaults: `SADVAEConfig()`).
        calibration: Expert combination; its seen temperature and gate threshold are refitted here.
        retention: Share of held-out seen windows the gate keeps on the seen side.
        metrics: Evaluation figures to store in the manifest.
        progress: Optional callback (stage, fraction).
        latent_space: where the latent classifier scores labels: "two-way" (the mean of two
            cosines: the features' ridge projection into the sentence-embedding space against
            the labels' embeddings, and the features against those expected of each label;
            training/projection.py), "text" (the first cosine alone) or "sadvae" (z_r against
            the text VAE's z_y). SA-DVAE is trained and exported either way.

    Returns:
        The manifest written.
    """
    from actzero.model.bundle import LATENT_SPACES
    from actzero.training.export import write_bundle
    from actzero.training.projection import (
        DEFAULT_RIDGE,
        class_prototypes,
        fit_text_projection,
        fit_two_way_projection,
    )

    if latent_space not in LATENT_SPACES:
        raise ValueError(f"latent_space must be one of {', '.join(LATENT_SPACES)}, got {latent_space!r}")

    config = config or TrainConfig()
    vae_config = vae_config or SADVAEConfig()
    started = time.time()
    clips = clips_from_dataset(dataset)
    train_idx, held_idx = stratified_holdout(clips.labels, 0.1, seed)
    train_set, held_set = clips.subset(train_idx), clips.subset(held_idx)
    descriptions = [list(c.descriptions) for c in dataset.classes]
    class_embeddings, text_cache = embed_class_texts(descriptions)
    backbone = train_backbone(train_set, config, seed=seed, progress=progress, class_texts=class_embeddings)
    if progress:
        progress("features", 0.0)
    frame = config.canonical_frame
    train_w, train_y, _ = windows_of_clips(train_set, config.window, config.feature_stride, frame)
    held_w, held_y, _ = windows_of_clips(held_set, config.window, config.feature_stride, frame)
    train_f, _ = backbone_outputs(backbone, train_w)
    _, held_logits = backbone_outputs(backbone, held_w)
    if progress:
        progress("features", 1.0)
    held_accuracy = float((held_logits.argmax(1) == held_y).mean()) if len(held_y) else float("nan")
    seen_temperature = fit_temperature(held_logits, held_y)
    vae = train_sadvae(train_f, train_y, class_embeddings, vae_config, seed=seed)
    if progress:
        progress("sadvae", 1.0)
    projection = None
    if latent_space == "text":
        projection = fit_text_projection(train_f, train_y, class_prototypes(class_embeddings), DEFAULT_RIDGE)
    elif latent_space == "two-way":
        projection = fit_two_way_projection(train_f, train_y, class_embeddings, DEFAULT_RIDGE)
    names = clips.names
    calib = replace(
        calibration,
        seen_temperature=seen_temperature,
        gate_threshold=gate_threshold(held_logits, seen_temperature, retention),
        idle_label=idle_label(names),
    )
    manifest = {
        "layout": "ntu25",
        "window": config.window,
        "fps": float(dataset.meta.get("fps", 30.0)),
        "canonical_frame": config.canonical_frame,
        "feature_dim": backbone.feature_dim,
        "dz_r": vae_config.dz_r,
        "dz_v": vae_config.dz_v,
        "text_dim": vae.text_dim,
        "actions": [
            {"name": c.name, "descriptions": list(c.descriptions), "source": c.source, "licence": c.licence}
            for c in dataset.classes
        ],
        "calibration": {**calib.to_dict(), "retention": retention},
        "classifier": {
            "samples_per_class": 200,
            "steps": 60,
            "latent_space": latent_space,
            **({"projection_ridge": DEFAULT_RIDGE, "projection_class_balanced": True} if projection else {}),
        },
        "backbone": {
            **config.backbone.to_dict(),
            "macs_per_window": count_macs(config.backbone, config.window),
        },
        "sadvae": vae_config.to_dict(),
        "training": {
            "seed": seed,
            "train_clips": len(train_idx),
            "heldout_clips": len(held_idx),
            "heldout_window_accuracy": held_accuracy,
            "heldout_no_action": no_action_rates(held_logits, held_y, names, calib),
            "config": config.to_dict(),
            "dataset_meta": {k: v for k, v in dataset.meta.items() if isinstance(v, str | int | float)},
        },
        "provenance": provenance(dataset),
        "licence": licence_note(list(dict.fromkeys(np.asarray(dataset.sources).tolist()))),
        "metrics": metrics or {},
    }
    manifest["training"]["time_s"] = round(time.time() - started, 1)
    manifest["export_max_abs_diff"] = write_bundle(out_dir, backbone, vae, manifest, text_cache, projection)
    return manifest


def licence_note(sources: Sequence[str]) -> str:
    """The bundle's licence and attribution note for the data sources it was trained on."""
    from actzero.training.dataset import SOURCE_CITATIONS, SYNTHETIC_SOURCE, source_licence

    parts = []
    for source in sources:
        if source == SYNTHETIC_SOURCE:
            parts.append("synthetic clips generated by actzero.training.synthetic (MIT)")
        else:
            parts.append(f"{source}: {source_licence(source)}; cite {SOURCE_CITATIONS[source]}")
    return (
        "Trained on: " + "; ".join(parts) + ". Because of the CC BY-NC and research-only sources this "
        "model bundle is for non-commercial use only and must carry these attributions (the CC BY-SA "
        "HDM05 data, where used, asks for share-alike). Text embeddings: all-MiniLM-L6-v2 (Apache-2.0)."
    )


def provenance(dataset) -> dict:
    """Per-source clip counts and class lists of the training data."""
    from actzero.training.dataset import source_licence

    sources: dict[str, dict] = {}
    clip_sources, labels = np.asarray(dataset.sources), np.asarray(dataset.labels)
    for source in dict.fromkeys(clip_sources.tolist()):
        mine = labels[clip_sources == source]
        sources[source] = {
            "classes": [dataset.classes[c].name for c in sorted(set(mine.tolist()))],
            "clips": int(len(mine)),
            "licence": source_licence(source),
        }
    return {"sources": sources, "dataset": "actzero.training.dataset (built from ../shared/data)"}


def save_json(path: Path, data: dict) -> None:
    """Write JSON with a trailing newline (creating parent folders)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2) + "\n")
