"""SA-DVAE: semantic-alignment disentangled variational autoencoders (Li et al., ECCV 2024).

A skeleton feature f_x and a text feature f_y are each encoded by a modality-specific VAE.
The skeleton latent is split into z_r (semantic, aligned with the text latent z_y) and z_v
(semantic-irrelevant: style, body, speed). Losses per step:

- reconstruction: MSE(f_x, D_x[z_r, z_v]) + MSE(f_y, D_y(z_y));
- KL: beta_x * (KL(z_r) + KL(z_v)) + beta_y * KL(z_y), weights warming up linearly;
- cross-alignment (after a warm-up): MSE(f_x, D_x[z_y, z_v]) + MSE(f_y, D_y(z_r));
- distribution alignment (`align_weight`, 0 = off, the paper's recipe; switched on with the
  cross-alignment): the 2-Wasserstein distance between q(z_r | x) and q(z_y | y) of each
  pair, sum over dimensions of (mu_r - mu_y)^2 + (sigma_r - sigma_y)^2 (as in CADA-VAE): it
  pulls a window's z_r onto its class text's z_y, which the zero-shot classifier compares;
- total correlation: the encoders are penalised by the discriminator's probability that
  [z_r, z_v] is a joint sample; the discriminator is trained every few steps with BCE on
  joint samples (label 1) against samples whose z_r and z_v were shuffled independently
  across the batch (label 0).

Reparameterisation draws an independent epsilon per latent dimension. Setting `dz_v = 0`
and `tc_weight = 0` gives the non-disentangled ablation (a plain cross-aligned VAE pair).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn


@dataclass(frozen=True)
class SADVAEConfig:
    """Latent sizes, loss weights and schedules (epochs count passes over the features)."""

    dz_r: int = 32
    dz_v: int = 8
    epochs: int = 15
    batch_size: int = 64
    lr: float = 3e-3
    beta_x: float = 0.05
    beta_y: float = 0.05
    kl_warmup_epochs: int = 5
    cross_start_epoch: int = 3
    cross_weight: float = 1.0
    align_weight: float = 0.0
    tc_weight: float = 1.0
    disc_every: int = 3
    disc_lr: float = 1e-3

    def to_dict(self) -> dict:
        """Plain-JSON form."""
        return asdict(self)


def reparameterise(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """Sample mu + sigma * eps with an independent standard normal epsilon per element."""
    return mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)


def kl_to_standard_normal(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(mu, sigma^2) || N(0, I)) summed over dimensions, averaged over the batch."""
    if mu.shape[-1] == 0:
        return mu.new_zeros(())
    return (-0.5 * (1 + logvar - mu.pow(2) - logvar.exp()).sum(dim=-1)).mean()


def wasserstein_distance(
    mu_a: torch.Tensor, logvar_a: torch.Tensor, mu_b: torch.Tensor, logvar_b: torch.Tensor
) -> torch.Tensor:
    """Squared 2-Wasserstein distance between diagonal Gaussians per row, averaged over the batch."""
    sigma_gap = torch.exp(0.5 * logvar_a) - torch.exp(0.5 * logvar_b)
    return ((mu_a - mu_b).pow(2) + sigma_gap.pow(2)).sum(dim=-1).mean()


def reconstruction_error(target: torch.Tensor, output: torch.Tensor) -> torch.Tensor:
    """Squared error summed over feature dimensions, averaged over the batch."""
    return (target - output).pow(2).sum(dim=-1).mean()


class GaussianEncoder(nn.Module):
    """One Linear to the mean and one to the log-variance; inputs are scaled by `input_scale`."""

    def __init__(self, in_dim: int, latent_dim: int, input_scale: float = 1.0) -> None:
        super().__init__()
        self.register_buffer("input_scale", torch.tensor(float(input_scale)))
        self.mu = nn.Linear(in_dim, latent_dim)
        self.logvar = nn.Linear(in_dim, latent_dim)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = x * self.input_scale
        return self.mu(x), self.logvar(x).clamp(-10.0, 10.0)


class Discriminator(nn.Module):
    """D_T: Linear(d, d/4) -> ReLU -> Linear(d/4, 1); returns the logit of 'joint sample'."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        hidden = max(dim // 4, 1)
        self.net = nn.Sequential(nn.Linear(dim, hidden), nn.ReLU(), nn.Linear(hidden, 1))

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z).squeeze(-1)


def shuffle_factors(z_r: torch.Tensor, z_v: torch.Tensor) -> torch.Tensor:
    """[z_r, z_v] with z_r and z_v permuted independently across the batch (product of marginals)."""
    n = z_r.shape[0]
    return torch.cat([z_r[torch.randperm(n)], z_v[torch.randperm(n)]], dim=-1)


class SADVAE(nn.Module):
    """The skeleton VAE (z_r, z_v), the text VAE (z_y) and the TC discriminator."""

    def __init__(
        self, skeleton_dim: int, text_dim: int, config: SADVAEConfig, skeleton_scale: float = 1.0
    ) -> None:
        super().__init__()
        self.config = config
        self.skeleton_dim, self.text_dim = skeleton_dim, text_dim
        d_r, d_v = config.dz_r, config.dz_v
        self.skeleton_encoder = GaussianEncoder(skeleton_dim, d_r + d_v, skeleton_scale)
        self.text_encoder = GaussianEncoder(text_dim, d_r)
        self.skeleton_decoder = nn.Sequential(nn.Linear(d_r + d_v, skeleton_dim), nn.ReLU())
        self.text_decoder = nn.Linear(d_r, text_dim)
        self.discriminator = Discriminator(d_r + d_v) if d_v > 0 else None

    def skeleton_target(self, f_x: torch.Tensor) -> torch.Tensor:
        """The skeleton feature as the decoder reconstructs it (scaled)."""
        return f_x * self.skeleton_encoder.input_scale

    def semantic_mean(self, f_x: torch.Tensor) -> torch.Tensor:
        """Mean of z_r given skeleton features: what the zero-shot classifier sees at test time."""
        return self.skeleton_encoder(f_x)[0][:, : self.config.dz_r]

    def losses(
        self, f_x: torch.Tensor, f_y: torch.Tensor, epoch: float
    ) -> tuple[torch.Tensor, dict[str, float], torch.Tensor]:
        """Encoder/decoder loss of one batch at a (fractional) epoch.

        Returns:
            (total loss, scalar parts for logging, the sampled [z_r, z_v] for the discriminator).
        """
        cfg = self.config
        target_x = self.skeleton_target(f_x)
        mu_x, logvar_x = self.skeleton_encoder(f_x)
        mu_y, logvar_y = self.text_encoder(f_y)
        z_x = reparameterise(mu_x, logvar_x)
        z_y = reparameterise(mu_y, logvar_y)
        z_r, z_v = z_x[:, : cfg.dz_r], z_x[:, cfg.dz_r :]

        recon = reconstruction_error(target_x, self.skeleton_decoder(z_x)) + reconstruction_error(
            f_y, self.text_decoder(z_y)
        )
        warm = min(1.0, epoch / max(cfg.kl_warmup_epochs, 1e-6))
        kl = cfg.beta_x * kl_to_standard_normal(mu_x, logvar_x) + cfg.beta_y * kl_to_standard_normal(
            mu_y, logvar_y
        )
        total = recon + warm * kl
        parts = {"recon": recon.item(), "kl": kl.item()}
        if epoch >= cfg.cross_start_epoch and cfg.cross_weight > 0:
            cross = reconstruction_error(
                target_x, self.skeleton_decoder(torch.cat([z_y, z_v], dim=-1))
            ) + reconstruction_error(f_y, self.text_decoder(z_r))
            total = total + cfg.cross_weight * cross
            parts["cross"] = cross.item()
        if epoch >= cfg.cross_start_epoch and cfg.align_weight > 0:
            align = wasserstein_distance(mu_x[:, : cfg.dz_r], logvar_x[:, : cfg.dz_r], mu_y, logvar_y)
            total = total + cfg.align_weight * align
            parts["align"] = align.item()
        if self.discriminator is not None and cfg.tc_weight > 0:
            tc = torch.sigmoid(self.discriminator(z_x)).mean()
            total = total + cfg.tc_weight * tc
            parts["tc"] = tc.item()
        return total, parts, z_x.detach()

    def discriminator_loss(self, z_x: torch.Tensor) -> torch.Tensor:
        """BCE of D_T: joint samples labelled 1, independently shuffled samples labelled 0."""
        assert self.discriminator is not None
        dz_r = self.config.dz_r
        joint = self.discriminator(z_x)
        shuffled = self.discriminator(shuffle_factors(z_x[:, :dz_r], z_x[:, dz_r:]))
        return F.binary_cross_entropy_with_logits(
            joint, torch.ones_like(joint)
        ) + F.binary_cross_entropy_with_logits(shuffled, torch.zeros_like(shuffled))


def feature_scale(features: np.ndarray) -> float:
    """Scale that gives skeleton features a mean L2 norm of 1 (text features already have it)."""
    norms = np.linalg.norm(features, axis=1)
    mean = float(norms.mean()) if norms.size else 0.0
    return 1.0 / mean if mean > 1e-8 else 1.0


def train_sadvae(
    skeleton_features: np.ndarray,
    labels: np.ndarray,
    class_texts: list[np.ndarray],
    config: SADVAEConfig,
    seed: int = 0,
    log: list[dict] | None = None,
) -> SADVAE:
    """Train SA-DVAE on seen-class skeleton features paired with their class texts.

    Args:
        skeleton_features: (N, Dx) float32 backbone features f_x of seen-class windows.
        labels: (N,) int indices into `class_texts`.
        class_texts: per class a (M_c, Dy) array of description embeddings; each step pairs a
            skeleton sample with one description of its class drawn at random.
        config: sizes and schedules.
        seed: torch/numpy seed for initialisation, batching and sampling.
        log: if given, one dict of mean losses per epoch is appended.

    Returns:
        The trained model in eval mode.
    """
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny matrices: one thread is much faster than two on a busy machine
    try:
        return _train_sadvae(skeleton_features, labels, class_texts, config, seed, log)
    finally:
        torch.set_num_threads(threads)


def _train_sadvae(
    skeleton_features: np.ndarray,
    labels: np.ndarray,
    class_texts: list[np.ndarray],
    config: SADVAEConfig,
    seed: int,
    log: list[dict] | None,
) -> SADVAE:
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    f_x = torch.from_numpy(np.ascontiguousarray(skeleton_features, dtype=np.float32))
    labels = np.asarray(labels, dtype=np.int64)
    text_bank = [torch.from_numpy(np.ascontiguousarray(t, dtype=np.float32)) for t in class_texts]
    model = SADVAE(f_x.shape[1], text_bank[0].shape[1], config, feature_scale(skeleton_features))
    vae_params = [p for name, p in model.named_parameters() if not name.startswith("discriminator")]
    optimiser = torch.optim.Adam(vae_params, lr=config.lr)
    disc_optimiser = (
        torch.optim.Adam(model.discriminator.parameters(), lr=config.disc_lr)
        if model.discriminator is not None
        else None
    )
    n = len(f_x)
    steps_per_epoch = max(1, math.ceil(n / config.batch_size))
    step = 0
    model.train()
    for epoch in range(config.epochs):
        order = rng.permutation(n)
        sums: dict[str, float] = {}
        counts: dict[str, int] = {}
        for b in range(steps_per_epoch):
            idx = order[b * config.batch_size : (b + 1) * config.batch_size]
            if len(idx) < 2:
                continue
            f_y = torch.stack([text_bank[c][rng.integers(len(text_bank[c]))] for c in labels[idx]])
            loss, parts, z_x = model.losses(f_x[idx], f_y, epoch + b / steps_per_epoch)
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            if disc_optimiser is not None and config.tc_weight > 0 and step % config.disc_every == 0:
                d_loss = model.discriminator_loss(z_x)
                disc_optimiser.zero_grad()
                d_loss.backward()
                disc_optimiser.step()
                parts["disc"] = d_loss.item()
            for key, value in parts.items():
                sums[key] = sums.get(key, 0.0) + value
                counts[key] = counts.get(key, 0) + 1
            step += 1
        if log is not None:
            log.append({"epoch": epoch, **{k: v / counts[k] for k, v in sums.items()}})
    return model.eval()
