"""Zero-shot classification in the semantic latent space z_r (numpy only).

For each action, latent samples z_y ~ q(z_y | description) are drawn from the text VAE
encoder's Gaussians (spread over the action's descriptions), and a linear softmax
classifier is fitted on them with full-batch Adam. A skeleton window is classified by the
mean of its z_r.

Generalised zero-shot: the label set may mix shipped (seen) classes, which the backbone's
own classifier knows, with added ones that only the latent classifier knows. Both experts
are temperature-calibrated (T_s fitted on held-out seen windows, T_u on held-out
pseudo-unseen windows) and combined per `Calibration.method`:

- "gate" (the SA-DVAE/SynSE idea of a seen/unseen gate, as a soft threshold on the
  calibrated top seen probability): g(x) = sigmoid(a * (log max p_all(x) - log tau)), p_all
  the backbone's softmax over ALL its classes; the seen expert's weight is w = g * m, m the
  mass p_all gives the label set's shipped labels (1 when the set holds every shipped
  action), and p = w * p_seen on seen labels (p_all renormalised over them), (1 - w) *
  p_latent on the others. tau is the quantile of held-out seen windows' top seen
  probability that keeps a chosen fraction of them on the seen side, so it is refitted for
  each backbone on seen data only;
- "stacking" (calibrated stacking, Chao et al. 2016, on calibrated log-probabilities):
  softmax over [log p_seen - penalty, log p_latent].
- "mixture": the same gate g, but the unseen side is the latent classifier over ALL labels
  with the shipped labels' latent logits lowered by `seen_penalty` (calibrated stacking
  inside the latent expert): p = w * p_seen + (1 - w) * softmax(latent - penalty * seen).
  With "gate" the unseen side is a softmax over the added labels only, so a single added
  action takes the whole unseen share whatever the latent classifier says (on the sample
  video every person became "jumping jacks" at 0.9-1.0 once it was added); here it must
  also beat the shipped labels in the latent classifier, by the margin the penalty allows.
  A penalty of 0 is a plain mixture; a large one approaches "gate".

Latent scoring (`Calibration.latent_score`): "linear" is the softmax classifier above;
"cosine" scores a window by the cosine between its centred z_r and each label's prototype
(the mean of its descriptions' text means), both centred on a fixed point (the bundle passes
the mean prototype of its shipped actions). A linear classifier fitted on text samples
extrapolates off the text distribution: windows far from every text latent (camera or Kinect
skeletons, user-typed labels) all land on the label with the largest weight norm or bias
(a hub), e.g. "arm circles" for every clip of a 12-exercise set. Cosine scores are bounded
and ignore the norm, which removes that hub (docs/model.md, "User-typed label sets").
`latent_temperature` divides whichever scores are used.

"No action" (`Prediction.label = None`): the top label is the idle class, or the top
probability is below the threshold. With `no_action = "absolute"` the threshold is
`threshold`; with "relative" it is `relative_threshold * K ** -relative_exponent` (capped at
`threshold`), fitted on validation windows for several label-set sizes K, since flat
probabilities over a 12-label set are not flat over 3 labels.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, fields

import numpy as np

GATE_SHARPNESS = 8.0


@dataclass(frozen=True)
class Prediction:
    """One decision: `label` None means "no action"; `top_k` lists (label, probability)."""

    label: str | None
    score: float
    top_k: list[tuple[str, float]]


@dataclass(frozen=True)
class Calibration:
    """How the seen-class and latent experts are combined and when to say "no action"."""

    method: str = "gate"
    seen_temperature: float = 1.0
    latent_temperature: float = 1.0
    seen_penalty: float = 0.0
    gate_threshold: float = 0.5
    gate_sharpness: float = GATE_SHARPNESS
    threshold: float = 0.3
    idle_label: str | None = "standing still"
    latent_score: str = "linear"
    no_action: str = "absolute"
    relative_threshold: float = 1.0
    relative_exponent: float = 1.0

    def no_action_threshold(self, num_labels: int) -> float:
        """The top probability below which a label set of `num_labels` labels says "no action"."""
        if self.no_action == "absolute":
            return self.threshold
        if self.no_action != "relative":
            raise ValueError(f"unknown no_action rule {self.no_action!r}")
        relative = self.relative_threshold * max(num_labels, 1) ** -self.relative_exponent
        return min(self.threshold, relative)

    def to_dict(self) -> dict:
        """Plain-JSON form (stored in the bundle manifest)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> Calibration:
        """Inverse of `to_dict` (unknown keys are ignored)."""
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


def softmax(logits: np.ndarray, axis: int = -1) -> np.ndarray:
    """Numerically stable softmax."""
    shifted = logits - logits.max(axis=axis, keepdims=True)
    e = np.exp(shifted)
    return e / e.sum(axis=axis, keepdims=True)


@dataclass
class LinearSoftmax:
    """Linear classifier logits = z @ weight + bias."""

    weight: np.ndarray  # (d, K)
    bias: np.ndarray  # (K,)

    def logits(self, z: np.ndarray) -> np.ndarray:
        """Logits (N, K) of latents (N, d)."""
        return (np.asarray(z, dtype=np.float32) @ self.weight + self.bias).astype(np.float32)


def fit_relative_threshold(top_probs: dict[int, np.ndarray], target: float) -> tuple[float, float]:
    """Fit the "relative" no-action threshold a * K^-b to per-K quantiles of top probabilities.

    Args:
        top_probs: label-set size K -> top probabilities of validation windows whose class
            is in the label set (at least two sizes).
        target: the share of such windows that should be called "no action" at every K.

    Returns:
        (relative_threshold a, relative_exponent b) for `Calibration`.
    """
    if len(top_probs) < 2:
        raise ValueError("fitting the relative threshold needs at least two label-set sizes")
    ks = np.array(sorted(top_probs), dtype=np.float64)
    quantiles = [max(float(np.quantile(top_probs[int(k)], target)), 1e-6) for k in ks]
    slope, intercept = np.polyfit(np.log(ks), np.log(quantiles), 1)
    return float(np.exp(intercept)), float(-slope)


@dataclass(frozen=True)
class TextProjection:
    """Skeleton features and sentence embeddings mapped into one another, for a "text" bundle.

    Forward: x -> x @ weight + bias, features (N, F) into the sentence-embedding space (N, D).
    Two-way (when the reverse map is set): a label's embedding e -> e @ reverse_weight +
    reverse_bias, the features expected of its windows (N, F), and a window is scored against a
    label by the mean of two cosines, one in each space (`window_latents`, `label_latents` and
    `blocks` give the cosine scorer what it needs). Fitted by training/projection.py.
    """

    weight: np.ndarray  # (F, D), the feature scale folded in
    bias: np.ndarray  # (D,)
    reverse_weight: np.ndarray | None = None  # (D, F)
    reverse_bias: np.ndarray | None = None  # (F,)

    def __post_init__(self) -> None:
        if (self.reverse_weight is None) != (self.reverse_bias is None):
            raise ValueError("the reverse map needs both its weight and its bias")
        f, d = np.shape(self.weight)
        if np.shape(self.bias) != (d,):
            raise ValueError(f"bias {np.shape(self.bias)} does not fit weight {(f, d)}")
        if self.two_way and (np.shape(self.reverse_weight) != (d, f) or np.shape(self.reverse_bias) != (f,)):
            raise ValueError(
                f"reverse map {np.shape(self.reverse_weight)}, {np.shape(self.reverse_bias)} does not "
                f"fit weight {(f, d)}"
            )

    @property
    def two_way(self) -> bool:
        """True when labels are also mapped into the feature space."""
        return self.reverse_weight is not None

    @property
    def blocks(self) -> tuple[int, ...]:
        """Sizes of the latent blocks a cosine scorer compares separately (() = one block)."""
        return tuple(np.shape(self.reverse_weight)) if self.two_way else ()  # (D, F)

    def __call__(self, features: np.ndarray) -> np.ndarray:
        return (np.asarray(features, dtype=np.float32) @ self.weight + self.bias).astype(np.float32)

    def window_latents(self, features: np.ndarray) -> np.ndarray:
        """Where windows sit: the projection (N, D), followed by the features themselves if two-way."""
        projected = self(features)
        if not self.two_way:
            return projected
        return np.hstack([projected, np.asarray(features, dtype=np.float32)])

    def label_latents(self, embeddings: np.ndarray) -> np.ndarray:
        """Where label texts sit: the embeddings (N, D), followed by their expected features if two-way."""
        embeddings = np.asarray(embeddings, dtype=np.float32)
        if not self.two_way:
            return embeddings
        expected = embeddings @ self.reverse_weight + self.reverse_bias
        return np.hstack([embeddings, expected]).astype(np.float32)


def _unit_blocks(x: np.ndarray, blocks: tuple[int, ...]) -> np.ndarray:
    """Each row's blocks scaled to norm 1 / sqrt(number of blocks): dot products = mean block cosine."""
    parts = np.split(x, np.cumsum(blocks)[:-1], axis=1) if blocks else [x]
    scale = 1.0 / np.sqrt(len(parts))
    return np.hstack(
        [scale * p / np.maximum(np.linalg.norm(p, axis=1, keepdims=True), 1e-8) for p in parts]
    ).astype(np.float32)


@dataclass
class CosineScorer:
    """Cosine between centred latents and centred, L2-normalised label prototypes.

    With `blocks` (sizes summing to d) the cosine is taken per block and averaged.
    """

    prototypes: np.ndarray  # (K, d) rows already centred and normalised per block
    centre: np.ndarray  # (d,)
    blocks: tuple[int, ...] = ()

    def logits(self, z: np.ndarray) -> np.ndarray:
        """Cosine scores (N, K) in [-1, 1] of latents (N, d)."""
        z = _unit_blocks(np.asarray(z, dtype=np.float32) - self.centre, self.blocks)
        return (z @ self.prototypes.T).astype(np.float32)


def cosine_scorer(
    text_means: Sequence[np.ndarray], centre: np.ndarray | None = None, blocks: Sequence[int] = ()
) -> CosineScorer:
    """A `CosineScorer` whose prototype per label is the mean of its descriptions' text means.

    Args:
        text_means: per label (M_k, d) text VAE means.
        centre: (d,) point subtracted from prototypes and latents; None = the origin.
        blocks: sizes of latent blocks scored separately (`TextProjection.blocks`); () = one.
    """
    protos = np.stack([np.atleast_2d(m).mean(axis=0) for m in text_means]).astype(np.float32)
    blocks = tuple(int(b) for b in blocks)
    if blocks and sum(blocks) != protos.shape[1]:
        raise ValueError(f"blocks {blocks} do not add up to the latent size {protos.shape[1]}")
    centre = np.zeros(protos.shape[1], np.float32) if centre is None else np.asarray(centre, np.float32)
    return CosineScorer(_unit_blocks(protos - centre, blocks), centre, blocks)


def _gaussian_init(z: np.ndarray, y: np.ndarray, num_classes: int) -> tuple[np.ndarray, np.ndarray]:
    """Linear discriminant of class means under one shared isotropic variance (a good start)."""
    counts = np.bincount(y, minlength=num_classes).astype(np.float32)
    means = np.zeros((num_classes, z.shape[1]), dtype=np.float32)
    np.add.at(means, y, z)
    means /= np.maximum(counts, 1.0)[:, None]
    variance = float(((z - means[y]) ** 2).mean()) + 1e-3
    weight = np.ascontiguousarray(means.T / variance, dtype=np.float32)
    bias = (-0.5 * (means**2).sum(axis=1) / variance).astype(np.float32)
    return weight, bias


def fit_linear_softmax(
    z: np.ndarray,
    y: np.ndarray,
    num_classes: int,
    steps: int = 60,
    lr: float = 0.01,
    weight_decay: float = 1e-4,
) -> LinearSoftmax:
    """Fit a linear softmax classifier by full-batch Adam on cross-entropy.

    Starts from the shared-variance Gaussian (LDA-like) solution, so few steps suffice.

    Args:
        z: (M, d) float32 samples.
        y: (M,) int labels in [0, num_classes).
        num_classes: K.
        steps: Adam steps.
        lr: Adam learning rate.
        weight_decay: L2 penalty on the weights.

    Returns:
        The fitted classifier.
    """
    z = np.ascontiguousarray(z, dtype=np.float32)
    y = np.asarray(y, dtype=np.int64)
    m, d = z.shape
    onehot = np.zeros((m, num_classes), dtype=np.float32)
    onehot[np.arange(m), y] = 1.0
    weight, bias = _gaussian_init(z, y, num_classes)
    params = [weight, bias]
    first = [np.zeros_like(p) for p in params]
    second = [np.zeros_like(p) for p in params]
    beta1, beta2, eps = 0.9, 0.999, 1e-8
    z_t = np.ascontiguousarray(z.T)
    for step in range(1, steps + 1):
        probs = softmax(z @ weight + bias)
        delta = (probs - onehot) / m
        grads = [z_t @ delta + weight_decay * weight, delta.sum(axis=0)]
        correction1 = 1.0 - beta1**step
        correction2 = 1.0 - beta2**step
        for p, g, m1, m2 in zip(params, grads, first, second, strict=True):
            m1 *= beta1
            m1 += (1 - beta1) * g
            m2 *= beta2
            m2 += (1 - beta2) * g * g
            p -= lr * (m1 / correction1) / (np.sqrt(m2 / correction2) + eps)
    return LinearSoftmax(weight, bias)


def sample_latents(
    means: Sequence[np.ndarray],
    logvars: Sequence[np.ndarray],
    samples_per_class: int,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """Draw z_y for each class from its descriptions' Gaussians (spread evenly over them).

    Args:
        means: per class (M_c, d) means of q(z_y | description).
        logvars: per class (M_c, d) log-variances.
        samples_per_class: samples per class in total.
        rng: random generator.

    Returns:
        (samples (K * samples_per_class, d) float32, labels (K * samples_per_class,) int64).
    """
    zs, ys = [], []
    for label, (mu, logvar) in enumerate(zip(means, logvars, strict=True)):
        mu = np.atleast_2d(mu)
        which = np.arange(samples_per_class) % len(mu)
        std = np.exp(0.5 * np.atleast_2d(logvar))[which]
        zs.append(mu[which] + std * rng.standard_normal(std.shape).astype(np.float32))
        ys.append(np.full(samples_per_class, label, dtype=np.int64))
    return np.concatenate(zs).astype(np.float32), np.concatenate(ys)


def seen_gate(seen_probs: np.ndarray, calibration: Calibration) -> np.ndarray:
    """Probability (N,) that each window belongs to a seen label, from the top seen probability."""
    top = np.maximum(seen_probs.max(axis=1), 1e-12)
    score = calibration.gate_sharpness * (np.log(top) - np.log(max(calibration.gate_threshold, 1e-12)))
    return 1.0 / (1.0 + np.exp(-np.clip(score, -50, 50)))


def combine_experts(
    backbone_logits: np.ndarray,
    seen_index: np.ndarray,
    latent_logits: np.ndarray,
    seen_columns: np.ndarray,
    calibration: Calibration,
) -> np.ndarray:
    """Calibrated probabilities over the label set from both experts.

    The backbone's expert is its softmax over ALL its classes: the gate g is its confidence that
    the window is one of them at all, and the expert's weight is g times the probability mass it
    gives to the label set's shipped labels, shared among those labels as it gives it. A window
    the backbone sees as one of its classes that the label set lacks therefore goes to the
    latent side instead of to the nearest shipped label of the set (with a set of a few shipped
    names and some new ones, a softmax over just those few shipped labels is confident for
    almost every window and took the new labels' clips: docs/model.md, "Label sets that mix
    shipped and new actions"). With every backbone class in the set the mass is 1.

    Args:
        backbone_logits: (N, S_all) the backbone's logits over all its classes.
        seen_index: (S,) the backbone class of each shipped label of the set, in column order.
        latent_logits: (N, K) latent classifier logits over all K labels.
        seen_columns: (S,) column of each shipped label in the K labels (ascending).
        calibration: temperatures, penalty, gate.

    Returns:
        (N, K) float32 probabilities (rows sum to 1).
    """
    n, k = latent_logits.shape
    seen_mask = np.zeros(k, dtype=bool)
    seen_mask[seen_columns] = True
    latent_scaled = latent_logits / calibration.latent_temperature
    if not seen_mask.any():
        return softmax(latent_scaled).astype(np.float32)
    p_all = softmax(np.asarray(backbone_logits) / calibration.seen_temperature)
    p_in = p_all[:, np.asarray(seen_index, dtype=np.int64)]
    mass = p_in.sum(axis=1, keepdims=True)
    p_seen = p_in / np.maximum(mass, 1e-30)
    if seen_mask.all():
        return p_seen.astype(np.float32)
    weight = seen_gate(p_all, calibration)[:, None] * mass  # the seen expert's share
    if calibration.method == "mixture":
        probs = (1.0 - weight) * softmax(latent_scaled - calibration.seen_penalty * seen_mask)
        probs[:, seen_mask] += weight * p_seen
        return probs.astype(np.float32)
    p_latent = softmax(latent_scaled[:, ~seen_mask])
    probs = np.zeros((n, k), dtype=np.float64)
    if calibration.method == "gate":
        probs[:, seen_mask] = weight * p_seen
        probs[:, ~seen_mask] = (1.0 - weight) * p_latent
    elif calibration.method == "stacking":
        probs[:, seen_mask] = np.log(np.maximum(p_seen, 1e-30)) - calibration.seen_penalty
        probs[:, ~seen_mask] = np.log(np.maximum(p_latent, 1e-30))
        probs = softmax(probs)
    else:
        raise ValueError(f"unknown calibration method {calibration.method!r}")
    return probs.astype(np.float32)


@dataclass
class ZeroShotClassifier:
    """A fitted label set: latent classifier + calibrated combination with the seen classifier.

    `seen_index[k]` is the backbone class index of label k, or -1 for labels the backbone
    never saw. `encode` maps canonical windows to (seen logits over all backbone classes,
    z_r means); it is given at construction (the bundle passes its onnxruntime skeleton
    network); without one only `probabilities_from_outputs` works.
    """

    labels: list[str]
    seen_index: np.ndarray
    latent: LinearSoftmax | CosineScorer
    calibration: Calibration
    encode: Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]] | None = field(default=None, repr=False)

    @property
    def seen_columns(self) -> np.ndarray:
        """Columns of the labels the backbone knows."""
        return np.flatnonzero(self.seen_index >= 0)

    def probabilities_from_outputs(self, seen_logits_all: np.ndarray, z_r: np.ndarray) -> np.ndarray:
        """Probabilities (N, K) from backbone logits over all seen classes and z_r means."""
        columns = self.seen_columns
        return combine_experts(
            seen_logits_all, self.seen_index[columns], self.latent.logits(z_r), columns, self.calibration
        )

    def probabilities(self, windows: np.ndarray) -> np.ndarray:
        """Calibrated class probabilities (N, K) for canonical windows (N, T, 25, 3) float32."""
        if self.encode is None:
            raise RuntimeError("this classifier has no encoder; use probabilities_from_outputs")
        windows = np.asarray(windows, dtype=np.float32)
        if windows.ndim != 4 or windows.shape[2:] != (25, 3):
            raise ValueError(f"expected windows shaped (N, T, 25, 3), got {windows.shape}")
        if len(windows) == 0:
            return np.zeros((0, len(self.labels)), dtype=np.float32)
        seen_logits_all, z_r = self.encode(windows)
        return self.probabilities_from_outputs(seen_logits_all, z_r)

    def decide(self, probs: np.ndarray, top_k: int = 5) -> list[Prediction]:
        """Turn probabilities (N, K) into predictions; None = no action (idle or unsure)."""
        probs = np.atleast_2d(np.asarray(probs, dtype=np.float32))
        if probs.shape[1] != len(self.labels):
            raise ValueError(f"expected {len(self.labels)} probability columns, got {probs.shape[1]}")
        idle = self.calibration.idle_label
        threshold = self.calibration.no_action_threshold(len(self.labels))
        out = []
        for row in probs:
            order = np.argsort(-row)[: max(top_k, 1)]
            ranked = [(self.labels[i], float(row[i])) for i in order]
            best, score = ranked[0]
            label = None if score < threshold or best == idle else best
            out.append(Prediction(label=label, score=score, top_k=ranked[:top_k]))
        return out


def fit_zero_shot(
    labels: Sequence[str],
    seen_index: np.ndarray,
    text_means: Sequence[np.ndarray],
    text_logvars: Sequence[np.ndarray],
    calibration: Calibration,
    samples_per_class: int = 200,
    seed: int = 0,
    steps: int = 60,
    centre: np.ndarray | None = None,
    encode: Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]] | None = None,
    blocks: Sequence[int] = (),
) -> ZeroShotClassifier:
    """Fit the latent classifier for a label set from its text latents.

    Args:
        labels: K label names.
        seen_index: (K,) backbone class index per label or -1.
        text_means: per label (M_k, d) text VAE means, one row per description.
        text_logvars: per label (M_k, d) log-variances.
        calibration: how to combine with the seen classifier.
        samples_per_class: z_y samples per label.
        seed: sampling seed.
        steps: Adam steps.
        centre: (d,) centre of the "cosine" scoring (None = the origin); unused by "linear".
        encode: canonical windows -> (seen logits, z_r means), used by `probabilities`
            (None: only `probabilities_from_outputs` works).
        blocks: latent blocks the "cosine" scoring compares separately (`TextProjection.blocks`).

    Returns:
        The fitted `ZeroShotClassifier`.
    """
    if len(labels) == 0:
        raise ValueError("a classifier needs at least one label")
    latent: LinearSoftmax | CosineScorer
    if calibration.latent_score == "cosine":
        latent = cosine_scorer(text_means, centre, blocks)
    elif calibration.latent_score == "linear":
        rng = np.random.default_rng(seed)
        z, y = sample_latents(text_means, text_logvars, samples_per_class, rng)
        latent = fit_linear_softmax(z, y, len(labels), steps=steps)
    else:
        raise ValueError(f"unknown latent_score {calibration.latent_score!r}")
    return ZeroShotClassifier(
        labels=list(labels),
        seen_index=np.asarray(seen_index, dtype=np.int64),
        latent=latent,
        calibration=calibration,
        encode=encode,
    )
