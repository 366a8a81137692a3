"""Makes the GGUF reader's test fixtures in Tests/Fixtures/gguf/ from the `gguf` Python package.

Run from the repository root:  .venv-reference/bin/python reference/make_gguf_fixtures.py
Made with gguf 0.19.0 and numpy; the random generator is seeded, so reruns give identical files.

What it writes (all under Tests/Fixtures/gguf/):
  quants/<TYPE>.bin       raw ggml bytes: a few blocks of TYPE (F32, F16, BF16, the legacy quants
                          Q4_0..Q8_0 and the K-quants Q2_K..Q6_K)
  quants/<TYPE>.f32       what gguf.quants.dequantize makes of those bytes, little-endian float32
  quants/manifest.json    per type: ggml id, block size, bytes per block, element count, how the bytes
                          were made; plus gguf's GGML_QUANT_SIZES table for every type it knows
  small.gguf              a small valid GGUF written with gguf.GGUFWriter: metadata of every value
                          type (arrays, a nested array, non-ASCII text), alignment 64, one tiny tensor
                          of each supported type and one of an unsupported type (IQ4_NL)
  small.expected.json     that file's metadata and tensor table as gguf.GGUFReader reads it, and
                          each tensor's dequantized values as float32 bit patterns
  real_model.expected.json  only when models/SmolLM2-135M-Instruct.Q4_1.gguf is present: counts,
                          a few metadata values, and for token_embd.weight (Q8_0) and
                          blk.0.attn_q.weight (Q4_1) sampled values, the exact float64 sum and a
                          position-weighted checksum of every float32 bit pattern

Quantized blocks: the types gguf.quants can quantize (BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0) get both
quantized random data and random bytes; the K-quants (which gguf.quants cannot quantize) get random
bytes. In random bytes the fp16 scale fields (d, dmin, m) are overwritten with finite values so that
every element is finite and the comparison can be bit for bit.
"""

from __future__ import annotations

import json
import math
from importlib.metadata import version
from pathlib import Path

import numpy as np

import gguf
from gguf import GGMLQuantizationType as T
from gguf import GGUFValueType as V

SEED = 20240521
OUT = Path("Tests/Fixtures/gguf")
MODEL = Path("models/SmolLM2-135M-Instruct.Q4_1.gguf")

# Byte offsets of the fp16 scale fields in each block (ggml-common.h), overwritten in random blocks.
HALF_FIELDS = {
    T.Q4_0: [0], T.Q4_1: [0, 2], T.Q5_0: [0], T.Q5_1: [0, 2], T.Q8_0: [0],
    T.Q2_K: [80, 82], T.Q3_K: [108], T.Q4_K: [0, 2], T.Q5_K: [0, 2], T.Q6_K: [208],
    T.IQ4_NL: [0],
}
QUANTIZABLE = [T.Q4_0, T.Q4_1, T.Q5_0, T.Q5_1, T.Q8_0]
K_QUANTS = [T.Q2_K, T.Q3_K, T.Q4_K, T.Q5_K, T.Q6_K]


def random_blocks(rng: np.random.Generator, qtype: T, n_blocks: int) -> np.ndarray:
    """Random bytes for n_blocks blocks, with finite fp16 scales of varied sign and magnitude."""
    _, type_size = gguf.GGML_QUANT_SIZES[qtype]
    raw = rng.integers(0, 256, size=(n_blocks, type_size), dtype=np.uint8)
    for offset in HALF_FIELDS[qtype]:
        magnitude = rng.choice([1e-4, 3e-3, 0.02, 0.5], size=n_blocks)
        sign = rng.choice([1.0, -1.0], size=n_blocks, p=[0.75, 0.25])
        scale = (rng.uniform(0.5, 1.0, size=n_blocks) * magnitude * sign).astype(np.float16)
        raw[:, offset:offset + 2] = scale.view(np.uint8).reshape(n_blocks, 2)
    return raw.reshape(-1)


def quantized_blocks(rng: np.random.Generator, qtype: T, n_blocks: int) -> np.ndarray:
    """gguf.quants.quantize of random data; one all-zero block and one constant block included."""
    block_size, _ = gguf.GGML_QUANT_SIZES[qtype]
    data = rng.standard_normal((n_blocks, block_size)).astype(np.float32)
    data *= rng.choice([1e-3, 0.05, 1.0, 40.0], size=(n_blocks, 1)).astype(np.float32)
    data[0] = 0
    data[1] = 0.75
    return gguf.quants.quantize(data, qtype).reshape(-1)


def float_elements(rng: np.random.Generator, qtype: T) -> np.ndarray:
    """Raw bytes of F32, F16 or BF16 values, special values (inf, NaN with payload, subnormal, -0) included."""
    if qtype == T.F32:
        values = rng.standard_normal(256).astype(np.float32)
        values[:4] = [np.inf, -0.0, np.float32(1e-40), -3.4e38]
        return values.view(np.uint8)
    if qtype == T.F16:
        values = (rng.standard_normal(256) * 100).astype(np.float16).view(np.uint16)
        values[:8] = [0x7C00, 0xFC00, 0x7E00, 0x7D01, 0x0001, 0x83FF, 0x8000, 0x7BFF]
        return values.view(np.uint8)
    bits = rng.integers(0, 1 << 16, size=256, dtype=np.uint16)
    bits[:4] = [0x7F80, 0xFFC1, 0x0001, 0x8000]
    return bits.view(np.uint8)


def write_quant_fixtures(rng: np.random.Generator) -> None:
    quant_dir = OUT / "quants"
    quant_dir.mkdir(parents=True, exist_ok=True)
    entries = []
    for qtype in [T.F32, T.F16, T.BF16, *QUANTIZABLE, *K_QUANTS]:
        if qtype in (T.F32, T.F16, T.BF16):
            raw, source = float_elements(rng, qtype), "special and random values"
        elif qtype in QUANTIZABLE:
            raw = np.concatenate([quantized_blocks(rng, qtype, 8), random_blocks(rng, qtype, 8)])
            source = "8 blocks quantized by gguf.quants.quantize, then 8 blocks of random bytes"
        else:
            raw, source = random_blocks(rng, qtype, 6), "6 blocks of random bytes"
        expected = gguf.quants.dequantize(raw, qtype).astype(np.float32, copy=False).reshape(-1)
        raw.tofile(quant_dir / f"{qtype.name}.bin")
        expected.astype("<f4").tofile(quant_dir / f"{qtype.name}.f32")
        block_size, type_size = gguf.GGML_QUANT_SIZES[qtype]
        entries.append({
            "name": qtype.name, "id": int(qtype), "block_size": block_size, "type_size": type_size,
            "elements": int(expected.size), "bytes": int(raw.size), "source": source,
        })
    sizes = {t.name: {"id": int(t), "block_size": b, "type_size": s} for t, (b, s) in gguf.GGML_QUANT_SIZES.items()}
    manifest = {"gguf_version": version("gguf"), "seed": SEED, "types": entries, "ggml_quant_sizes": sizes}
    (quant_dir / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")


def small_tensors(rng: np.random.Generator) -> list[tuple[str, np.ndarray, T | None]]:
    """(name, data, raw ggml type or None for plain numpy dtypes). Shapes are numpy order."""
    tensors: list[tuple[str, np.ndarray, T | None]] = [
        ("f32.cube", rng.standard_normal((2, 3, 4)).astype(np.float32), None),
        ("f16.vector", rng.standard_normal(40).astype(np.float16), None),
        ("bf16.matrix", gguf.quants.quantize(rng.standard_normal((2, 8)).astype(np.float32), T.BF16), T.BF16),
    ]
    for qtype in QUANTIZABLE:
        data = rng.standard_normal((3, 64)).astype(np.float32)
        tensors.append((f"{qtype.name.lower()}.matrix", gguf.quants.quantize(data, qtype), qtype))
    for qtype in K_QUANTS:
        tensors.append((f"{qtype.name.lower()}.matrix", random_blocks(rng, qtype, 2).reshape(2, -1), qtype))
    tensors.append(("iq4_nl.unsupported", random_blocks(rng, T.IQ4_NL, 1).reshape(1, -1), T.IQ4_NL))
    return tensors


def write_small_gguf(rng: np.random.Generator) -> None:
    path = OUT / "small.gguf"
    writer = gguf.GGUFWriter(path, arch="test")
    writer.add_custom_alignment(64)
    writer.add_uint8("test.u8", 200)
    writer.add_int8("test.i8", -100)
    writer.add_uint16("test.u16", 60000)
    writer.add_int16("test.i16", -30000)
    writer.add_uint32("test.u32", 4_000_000_000)
    writer.add_int32("test.i32", -2_000_000_000)
    writer.add_float32("test.f32", 9.999999747378752e-06)
    writer.add_bool("test.bool", True)
    writer.add_string("test.string", "héllo, wörld ✓")
    writer.add_uint64("test.u64", 18_000_000_000_000_000_000)
    writer.add_int64("test.i64", -9_000_000_000_000_000_000)
    writer.add_float64("test.f64", -2.718281828459045)
    writer.add_array("test.array.i32", [1, -2, 3])
    writer.add_array("test.array.f32", [0.5, -1.25, 1e-3])
    writer.add_array("test.array.string", ["a", "", "ünï"])
    writer.add_array("test.array.bool", [True, False])
    writer.add_key_value("test.array.u8", [0, 255, 7], V.ARRAY, sub_type=V.UINT8)
    writer.add_key_value("test.array.u64", [1, 2**63], V.ARRAY, sub_type=V.UINT64)
    writer.add_key_value("test.array.f64", [0.1, -0.2], V.ARRAY, sub_type=V.FLOAT64)
    writer.add_array("test.array.nested", [[1, 2], [3]])
    for name, data, raw_dtype in small_tensors(rng):
        writer.add_tensor(name, data, raw_dtype=raw_dtype)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()

    reader = gguf.GGUFReader(path)
    metadata = [{"key": key, **expected_value(field)} for key, field in reader.fields.items()
                if not key.startswith("GGUF.")]
    # GGUFReader flattens nested arrays, so that one is described from what was written.
    for entry in metadata:
        if entry["key"] == "test.array.nested":
            entry.update(array_of(V.ARRAY, [array_of(V.INT32, [scalar(V.INT32, v) for v in inner])
                                             for inner in ([1, 2], [3])]))
    tensors = []
    for tensor in reader.tensors:
        values = gguf.quants.dequantize(tensor.data, tensor.tensor_type).astype(np.float32).reshape(-1)
        tensors.append({
            "name": tensor.name,
            "dimensions": [int(d) for d in tensor.shape],
            "type": tensor.tensor_type.name,
            "type_id": int(tensor.tensor_type),
            "offset": int(tensor.data_offset - reader.data_offset),
            "byte_count": int(tensor.n_bytes),
            "value_bits": [int(b) for b in values.view(np.uint32)],
        })
    header = {"version": int(reader.fields["GGUF.version"].contents()), "alignment": int(reader.alignment),
              "data_offset": int(reader.data_offset), "file_size": path.stat().st_size}
    document = {"gguf_version": version("gguf"), **header, "metadata": metadata, "tensors": tensors}
    (OUT / "small.expected.json").write_text(json.dumps(document, indent=1, ensure_ascii=False) + "\n")


def scalar(vtype: V, value) -> dict:
    """A scalar as text: integers in decimal, floats as hex bit patterns, bools as true/false."""
    if vtype == V.FLOAT32:
        text = f"0x{int(np.float32(value).view(np.uint32)):08x}"
    elif vtype == V.FLOAT64:
        text = f"0x{int(np.float64(value).view(np.uint64)):016x}"
    elif vtype == V.BOOL:
        text = "true" if value else "false"
    else:
        text = str(value)
    return {"type": vtype.name.lower(), "value": text}


def array_of(element_type: V, values: list[dict]) -> dict:
    return {"type": "array", "element_type": element_type.name.lower(), "values": values}


def expected_value(field) -> dict:
    if field.types[0] == V.ARRAY:
        element_type = field.types[-1]
        return array_of(element_type, [scalar(element_type, v) for v in field.contents()])
    return scalar(field.types[0], field.contents())


def tensor_summary(reader: gguf.GGUFReader, name: str, rng: np.random.Generator) -> dict:
    tensor = next(t for t in reader.tensors if t.name == name)
    values = gguf.quants.dequantize(tensor.data, tensor.tensor_type).astype(np.float32).reshape(-1)
    bits = values.view(np.uint32).astype(np.uint64)
    weights = np.arange(1, bits.size + 1, dtype=np.uint64)
    with np.errstate(over="ignore"):
        checksum = int(np.sum(bits * weights, dtype=np.uint64))
    indices = sorted({0, 1, 15, 16, 31, 32, values.size - 1, *rng.integers(0, values.size, 24).tolist()})
    return {
        "name": name,
        "dimensions": [int(d) for d in tensor.shape],
        "type": tensor.tensor_type.name,
        "offset": int(tensor.data_offset - reader.data_offset),
        "byte_count": int(tensor.n_bytes),
        "element_count": int(values.size),
        "sum": math.fsum(values.astype(np.float64).tolist()),
        "sum_of_squares": math.fsum((values.astype(np.float64) ** 2).tolist()),
        "weighted_bit_checksum": checksum,
        "samples": [{"index": int(i), "bits": int(values.view(np.uint32)[i])} for i in indices],
    }


def write_real_model_expectations(rng: np.random.Generator) -> None:
    if not MODEL.exists():
        print(f"{MODEL} not found: keeping the committed real_model.expected.json")
        return
    reader = gguf.GGUFReader(MODEL)
    metadata_keys = [k for k in reader.fields if not k.startswith("GGUF.")]
    document = {
        "gguf_version": version("gguf"),
        "file": MODEL.name,
        "tensor_count": len(reader.tensors),
        "metadata_count": len(metadata_keys),
        "data_offset": int(reader.data_offset),
        "architecture": reader.fields["general.architecture"].contents(),
        "block_count": int(reader.fields["llama.block_count"].contents()),
        "token_count": len(reader.fields["tokenizer.ggml.tokens"].data),
        "first_tokens": reader.fields["tokenizer.ggml.tokens"].contents(slice(0, 5)),
        "rms_epsilon_bits": int(np.float32(reader.fields["llama.attention.layer_norm_rms_epsilon"].contents()).view(np.uint32)),
        "tensors": [tensor_summary(reader, name, rng) for name in ("token_embd.weight", "blk.0.attn_q.weight")],
    }
    (OUT / "real_model.expected.json").write_text(json.dumps(document, indent=1, ensure_ascii=False) + "\n")


def main() -> None:
    if version("gguf") != "0.19.0":
        print(f"warning: fixtures were made with gguf 0.19.0, this is gguf {version('gguf')}")
    OUT.mkdir(parents=True, exist_ok=True)
    write_quant_fixtures(np.random.default_rng(SEED))
    write_small_gguf(np.random.default_rng(SEED + 1))
    write_real_model_expectations(np.random.default_rng(SEED + 2))


if __name__ == "__main__":
    main()
