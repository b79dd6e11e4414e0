"""SA-DVAE: losses, per-dimension reparameterisation, TC discriminator, training on a toy problem."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch

from actzero.training.sadvae import (
    SADVAE,
    Discriminator,
    SADVAEConfig,
    kl_to_standard_normal,
    reparameterise,
    shuffle_factors,
    train_sadvae,
    wasserstein_distance,
)


@pytest.fixture(autouse=True)
def _one_torch_thread():
    """Tiny tensors: one thread avoids thread-sync stalls on a busy 2-core machine."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _toy(n_classes: int = 4, per_class: int = 40, seed: int = 0):
    """Skeleton features carrying the class (plus a nuisance factor) and class text embeddings."""
    rng = np.random.default_rng(seed)
    text = rng.normal(0, 1, (n_classes, 24)).astype(np.float32)
    text /= np.linalg.norm(text, axis=1, keepdims=True)
    mixing = rng.normal(0, 1, (24, 16)).astype(np.float32)
    labels = np.repeat(np.arange(n_classes), per_class)
    nuisance = rng.normal(0, 1, (len(labels), 16)).astype(np.float32)
    features = np.maximum(text[labels] @ mixing + 0.3 * nuisance, 0).astype(np.float32)
    return features, labels, [t[None] for t in text]


def test_reparameterise_draws_independent_noise_per_dimension() -> None:
    torch.manual_seed(0)
    z = reparameterise(torch.zeros(2000, 4), torch.zeros(2000, 4))
    corr = np.corrcoef(z.numpy().T)
    assert np.abs(corr - np.eye(4)).max() < 0.1  # one scalar epsilon would make them identical


def test_kl_is_zero_at_the_prior_and_positive_elsewhere() -> None:
    assert float(kl_to_standard_normal(torch.zeros(3, 5), torch.zeros(3, 5))) == 0.0
    assert float(kl_to_standard_normal(torch.ones(3, 5), torch.zeros(3, 5))) > 0.0


def test_training_reduces_losses_and_aligns_text_with_skeleton() -> None:
    features, labels, texts = _toy()
    config = SADVAEConfig(dz_r=6, dz_v=2, epochs=40, lr=1e-2, kl_warmup_epochs=3, cross_start_epoch=2)
    log: list[dict] = []
    vae = train_sadvae(features, labels, texts, config, seed=0, log=log)
    assert log[-1]["recon"] < 0.5 * log[0]["recon"]
    assert log[-1]["cross"] < log[min(3, len(log) - 1)]["cross"]
    with torch.no_grad():
        z_r = vae.semantic_mean(torch.from_numpy(features)).numpy()
        text_mu = vae.text_encoder(torch.from_numpy(np.concatenate(texts)))[0].numpy()
    nearest = np.linalg.norm(z_r[:, None] - text_mu[None], axis=-1).argmin(axis=1)
    assert (nearest == labels).mean() > 0.8  # z_r lands near its own class's text latent


def test_discriminator_separates_joint_from_shuffled_samples() -> None:
    torch.manual_seed(0)
    disc = Discriminator(8)
    optimiser = torch.optim.Adam(disc.parameters(), lr=1e-2)
    vae = SADVAE(4, 4, SADVAEConfig(dz_r=6, dz_v=2))
    vae.discriminator = disc

    def batch() -> torch.Tensor:
        z_r = torch.randn(256, 6)
        z_v = z_r[:, :2] + 0.1 * torch.randn(256, 2)  # strongly dependent factors
        return torch.cat([z_r, z_v], dim=1)

    for _ in range(300):
        loss = vae.discriminator_loss(batch())
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
    z = batch()
    with torch.no_grad():
        joint = torch.sigmoid(disc(z))
        shuffled = torch.sigmoid(disc(shuffle_factors(z[:, :6], z[:, 6:])))
    accuracy = 0.5 * ((joint > 0.5).float().mean() + (shuffled < 0.5).float().mean())
    assert accuracy > 0.8


def test_without_disentanglement_has_no_discriminator() -> None:
    features, labels, texts = _toy(per_class=10)
    vae = train_sadvae(features, labels, texts, SADVAEConfig(dz_r=4, dz_v=0, tc_weight=0.0, epochs=2))
    assert vae.discriminator is None
    assert vae.semantic_mean(torch.from_numpy(features)).shape == (len(features), 4)


def test_wasserstein_distance_is_zero_for_equal_gaussians_and_grows_with_the_gap() -> None:
    mu, logvar = torch.randn(5, 3), torch.randn(5, 3)
    assert float(wasserstein_distance(mu, logvar, mu, logvar)) == 0.0
    # means 2 apart in one dimension, sigma 1 vs e^0.5: 4 + (1 - e^0.5)^2 per row
    gap = wasserstein_distance(
        torch.zeros(2, 3), torch.zeros(2, 3), torch.tensor([[2.0, 0, 0]] * 2), torch.tensor([[1.0, 0, 0]] * 2)
    )
    assert float(gap) == pytest.approx(4 + (1 - np.exp(0.5)) ** 2, rel=1e-5)


def test_distribution_alignment_pulls_z_r_onto_the_class_text_latent() -> None:
    features, labels, texts = _toy()
    base = SADVAEConfig(dz_r=6, dz_v=2, epochs=20, lr=1e-2, kl_warmup_epochs=3, cross_start_epoch=2)

    def gap(config: SADVAEConfig) -> float:
        vae = train_sadvae(features, labels, texts, config, seed=0)
        with torch.no_grad():
            z_r = vae.semantic_mean(torch.from_numpy(features)).numpy()
            text_mu = vae.text_encoder(torch.from_numpy(np.concatenate(texts)))[0].numpy()
        return float(np.linalg.norm(z_r - text_mu[labels], axis=1).mean())

    assert gap(replace(base, align_weight=1.0)) < 0.5 * gap(base)
