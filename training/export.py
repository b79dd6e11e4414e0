"""Export a trained backbone + SA-DVAE to a bundle folder (ONNX files + manifest).

The skeleton ONNX fuses the backbone with the skeleton VAE encoder: windows (N, T, 25, 3)
-> `features` f_x, `seen_logits`, `z_r` (mean of the semantic latent). The text ONNX is the
text VAE encoder: `text` (N, 384) -> `mu`, `logvar`. Both are checked against torch on
random inputs and the largest absolute difference is returned.
"""

from __future__ import annotations

import json
import os
import shutil
import warnings
from pathlib import Path

import numpy as np
import torch
from torch import nn

from actzero.model import bundle as bundle_format
from actzero.model.zeroshot import TextProjection
from actzero.training.backbone import GraphBackbone
from actzero.training.sadvae import SADVAE

OPSET = 17


class SkeletonNetwork(nn.Module):
    """Backbone + skeleton VAE encoder mean: windows -> (f_x, seen logits, z_r)."""

    def __init__(self, backbone: GraphBackbone, vae: SADVAE) -> None:
        super().__init__()
        self.backbone = backbone
        self.encoder = vae.skeleton_encoder
        self.dz_r = vae.config.dz_r

    def forward(self, windows: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        features = self.backbone.features(windows)
        logits = self.backbone.classifier(features)
        mu, _ = self.encoder(features)
        return features, logits, mu[:, : self.dz_r]


def _export(
    module: nn.Module, example: torch.Tensor, path: Path, inputs: list[str], outputs: list[str]
) -> None:
    module.eval()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            module,
            (example,),
            str(path),
            input_names=inputs,
            output_names=outputs,
            dynamic_axes={name: {0: "batch"} for name in inputs + outputs},
            opset_version=OPSET,
            dynamo=False,
        )


def _max_diff(module: nn.Module, path: Path, name: str, example: torch.Tensor) -> float:
    import onnxruntime as ort

    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    with torch.no_grad():
        expected = module(example)
    got = session.run(None, {name: example.numpy()})
    return max(float(np.abs(e.numpy() - g).max()) for e, g in zip(expected, got, strict=True))


def export_networks(
    backbone: GraphBackbone, vae: SADVAE, folder: Path, window: int = 64, seed: int = 0
) -> dict[str, float]:
    """Write skeleton.onnx and text_vae.onnx into `folder` and check them against torch.

    Returns:
        Max absolute difference ONNX vs torch per file, on random inputs.
    """
    folder.mkdir(parents=True, exist_ok=True)
    generator = torch.Generator().manual_seed(seed)
    skeleton = SkeletonNetwork(backbone, vae).eval()
    windows = torch.randn(5, window, 25, 3, generator=generator) * 0.5
    skeleton_path = folder / bundle_format.SKELETON_ONNX
    _export(skeleton, windows, skeleton_path, ["windows"], ["features", "seen_logits", "z_r"])
    text = nn.functional.normalize(torch.randn(7, vae.text_dim, generator=generator), dim=1)
    text_path = folder / bundle_format.TEXT_VAE_ONNX
    text_encoder = vae.text_encoder.eval()
    _export(text_encoder, text, text_path, ["text"], ["mu", "logvar"])
    return {
        bundle_format.SKELETON_ONNX: _max_diff(skeleton, skeleton_path, "windows", windows),
        bundle_format.TEXT_VAE_ONNX: _max_diff(text_encoder, text_path, "text", text),
    }


def write_bundle(
    folder: Path,
    backbone: GraphBackbone,
    vae: SADVAE,
    manifest: dict,
    text_cache: dict[str, np.ndarray],
    projection: TextProjection | None = None,
) -> dict[str, float]:
    """Write a complete bundle: ONNX files, text embedding cache, text projection and manifest.json.

    The files are written into a temporary sibling folder that then replaces `folder`, so an
    interrupted export leaves the previous bundle (or nothing) in place, never a mix.

    Args:
        folder: Output folder (created or replaced).
        backbone: Trained backbone (its logits are the manifest's actions, in order).
        vae: Trained SA-DVAE.
        manifest: Everything but format/version/files/export checks (added here).
        text_cache: Description -> sentence embedding for the shipped descriptions.
        projection: the text projection, for a manifest whose classifier has
            `latent_space` "text" or "two-way" (training/projection.py); None writes no projection file.

    Returns:
        The ONNX-vs-torch max absolute differences.
    """
    final = Path(folder)
    final.parent.mkdir(parents=True, exist_ok=True)
    folder = final.with_name(f".{final.name}.partial-{os.getpid()}")
    previous = final.with_name(f".{final.name}.previous-{os.getpid()}")
    shutil.rmtree(folder, ignore_errors=True)
    try:
        diffs = export_networks(backbone, vae, folder, window=int(manifest["window"]))
        texts = sorted(text_cache)
        np.savez_compressed(
            folder / bundle_format.TEXT_CACHE,
            texts=np.array(texts),
            embeddings=np.stack([text_cache[t] for t in texts]).astype(np.float32),
        )
        full = {"format": bundle_format.FORMAT, "version": bundle_format.VERSION, **manifest}
        full["files"] = {
            "skeleton": bundle_format.SKELETON_ONNX,
            "text_vae": bundle_format.TEXT_VAE_ONNX,
            "text_cache": bundle_format.TEXT_CACHE,
        }
        if projection is not None:
            arrays = {"weight": projection.weight, "bias": projection.bias}
            if projection.two_way:
                arrays |= {
                    "reverse_weight": projection.reverse_weight,
                    "reverse_bias": projection.reverse_bias,
                }
            np.savez(folder / bundle_format.TEXT_PROJECTION, **arrays)
            full["files"]["text_projection"] = bundle_format.TEXT_PROJECTION
        full["export_max_abs_diff"] = diffs
        (folder / bundle_format.MANIFEST).write_text(json.dumps(full, indent=2) + "\n")
        if final.exists():
            final.rename(previous)
        try:
            folder.rename(final)
        except OSError:
            if previous.exists():
                previous.rename(final)
            raise
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    shutil.rmtree(previous, ignore_errors=True)
    return diffs
