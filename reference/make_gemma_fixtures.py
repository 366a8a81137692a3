#!/usr/bin/env python3
"""Reference fixture for Gemma 3 270M (GGUF, Q4_K_M), computed with transformers loading the same GGUF (fp32, CPU,
eager attention). Run from the repository root after scripts/setup-model (loading the GGUF takes ~4 minutes):

    .venv-reference/bin/python reference/make_gemma_fixtures.py

Writes Tests/Fixtures/reference/gemma-3-270m-q4_k_m.safetensors and .json, small enough to commit:

  p<i>.ids                     token ids of prompt i (transformers' tokenizer built from the GGUF)
  p<i>.top50, p<i>.top50_logits  the 50 largest last-position logits (ids, values)
  p<i>.probe_logits            last-position logits of the ids in `probe_ids` (every 997th id: the whole range)
  p<i>.greedy                  greedy continuation (20 tokens, eos 1), for GREEDY_PROMPTS
  p0.<hook>.<l>                full [T, ...] captures of the short prompt at HOOK_LAYERS: resid_pre, z, attn_out,
                               attn_post_norm_scale, resid_mid, mlp_out; and resid_final, final_norm_scale
  p<i>.resid_final_last        resid_final at the last position, for every prompt

The JSON also holds `tokenizer_cases` (text -> ids from the same tokenizer) for the tokenizer parity test.
The longest prompt has more tokens than the 512-token sliding window, so the local layers' window matters.
Conventions of the hooks as in make_model_fixtures.py (Gemma: attn_out and mlp_out after the post-norms).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import make_model_fixtures as mmf  # noqa: E402  (sets the single-thread environment before torch loads)

import numpy as np  # noqa: E402
import torch  # noqa: E402
from safetensors.numpy import save_file  # noqa: E402
from transformers import AutoModelForCausalLM, AutoTokenizer  # noqa: E402

GGUF_NAME = "gemma-3-270m-q4_k_m.gguf"
GGUF_SHA256 = "a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818"
NAME = "gemma-3-270m-q4_k_m"
HOOK_LAYERS = [0, 5, 17]   # a local layer, the first global layer, the last (global) layer
GREEDY_PROMPTS = (0, 1)
MAX_NEW_TOKENS = 20
PROBE_STRIDE = 997


def long_icl_prompt() -> str:
    """An antonym ICL prompt of ~600 tokens: longer than the 512-token window of the local layers."""
    pairs = [("hot", "cold"), ("big", "small"), ("fast", "slow"), ("up", "down"), ("light", "dark"),
             ("happy", "sad"), ("old", "young"), ("early", "late"), ("rich", "poor"), ("hard", "soft"),
             ("open", "closed"), ("wet", "dry"), ("full", "empty"), ("strong", "weak"), ("loud", "quiet")]
    lines = []
    for i in range(7):
        for a, b in pairs:
            lines.append(f"Q: {a}\nA: {b}\n" if i % 2 == 0 else f"Q: {b}\nA: {a}\n")
    return "\n".join(lines) + "\nQ: thick\nA:"


PROMPTS = [
    "Q: hot\nA: cold\n\nQ: big\nA:",
    "France -> Paris\nItaly -> Rome\nJapan -> Tokyo\nSpain ->",
    "In 2024, 1234 apples cost €56.78 — naïve café, 日本語 ✓",
    long_icl_prompt(),
]
TOKENIZER_CASES = PROMPTS[:3] + [
    "", " leading space", "trailing space ", "  two  spaces", "tab\tand\r\nCRLF", "line\n\n\nbreaks",
    "<bos> <eos> <start_of_turn>user\nhi<end_of_turn>", "emoji 🤗🎉 and Ωmega", "sentiment: positive\ninput: great!",
    "12345678901234567890", "don't can't won't", "ÀÉÎÕÜ àéîõü ß", "a\u00a0b", "print('hello')  # comment",
]


def f32(t) -> np.ndarray:
    return np.ascontiguousarray(np.asarray(t.detach().float().cpu().numpy() if torch.is_tensor(t) else t,
                                           dtype=np.float32))


def main():
    mmf.check_versions()
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    path = mmf.GGUF_DIR / GGUF_NAME
    if not path.exists():
        sys.exit(f"{path} missing: run scripts/setup-model")
    digest = mmf.sha256(path.resolve())
    assert digest == GGUF_SHA256, f"{path}: sha256 {digest}, expected {GGUF_SHA256}"
    model = AutoModelForCausalLM.from_pretrained(mmf.GGUF_DIR, gguf_file=GGUF_NAME, dtype=torch.float32,
                                                 attn_implementation="eager").eval()
    tok = AutoTokenizer.from_pretrained(mmf.GGUF_DIR, gguf_file=GGUF_NAME)
    cfg = model.config
    assert cfg.model_type == "gemma3_text" and cfg._attn_implementation == "eager"
    assert cfg.final_logit_softcapping is None and cfg.attn_logit_softcapping is None

    # The GGUF stores the norm gains as (1 + w) (llama.cpp's converter adds 1); transformers subtracts 1 on loading
    # and its Gemma3RMSNorm adds it back, so the gain it applies is the stored value.
    from gguf import GGUFReader
    reader = GGUFReader(str(path))
    stored = {t.name: np.asarray(t.data, dtype=np.float32) for t in reader.tensors if t.name.endswith("norm.weight")}
    layer0 = model.model.layers[0]
    gain_checks = {
        "blk.0.post_attention_norm.weight": layer0.post_attention_layernorm.weight,
        "blk.0.attn_q_norm.weight": layer0.self_attn.q_norm.weight,
        "output_norm.weight": model.model.norm.weight,
    }
    for gguf_name, weight in gain_checks.items():
        applied = (1.0 + weight.detach().float()).numpy()
        assert np.array_equal(applied, stored[gguf_name]), gguf_name

    tensors: dict[str, np.ndarray] = {}
    probe_ids = list(range(0, cfg.vocab_size, PROBE_STRIDE))
    tensors["probe_ids"] = np.asarray(probe_ids, dtype=np.int32)
    meta_prompts, checks = [], {}
    for i, text in enumerate(PROMPTS):
        p = f"p{i}"
        ids, bos_added = mmf.tokenize(tok, text)
        assert bos_added
        tensors[f"{p}.ids"] = mmf.i32(ids)
        logits, caps, attns = mmf.run_with_hooks(model, ids)
        checks[p] = mmf.sanity_checks(model, ids, logits, caps, attns)
        last = logits[-1]
        top = torch.topk(last, 51)
        tensors[f"{p}.top50"] = mmf.i32(top.indices[:50].tolist())
        tensors[f"{p}.top50_logits"] = f32(top.values[:50])
        tensors[f"{p}.probe_logits"] = f32(last[probe_ids])
        tensors[f"{p}.resid_final_last"] = f32(caps["resid_final"][-1])
        if i == 0:
            for l in HOOK_LAYERS:
                for k in ("resid_pre", "z", "attn_out", "attn_post_norm_scale", "resid_mid", "mlp_out"):
                    tensors[f"{p}.{k}.{l}"] = f32(caps[f"{k}.{l}"])
            tensors[f"{p}.resid_final"] = f32(caps["resid_final"])
            tensors[f"{p}.final_norm_scale"] = f32(caps["final_norm_scale"])
        entry = dict(key=p, text=text, ids=ids, n_tokens=len(ids), bos_added=bos_added,
                     top1_top2_margin=float(top.values[0] - top.values[1]),
                     top50_gap_50_51=float(top.values[49] - top.values[50]))
        if i in GREEDY_PROMPTS:
            g = mmf.greedy(model, ids)
            tensors[f"{p}.greedy"] = mmf.i32(g["new_ids"])
            g["text"] = tok.decode(g["new_ids"])
            entry["greedy"] = g
        entry["stored"] = sorted(k[len(p) + 1:] for k in tensors if k.startswith(p + "."))
        meta_prompts.append(entry)
        print(f"{p}: T={len(ids)} margin={entry['top1_top2_margin']:.3f} {entry.get('greedy', {}).get('text', '')!r}")
    assert max(p["n_tokens"] for p in meta_prompts) > cfg.sliding_window

    cases = [dict(text=t, ids=tok(t)["input_ids"]) for t in TOKENIZER_CASES]
    st_path = mmf.REF_OUT / f"{NAME}.safetensors"
    save_file(tensors, str(st_path), metadata={"model": NAME, "generator": "reference/make_gemma_fixtures.py"})
    mmf.canonicalize_safetensors(st_path)
    meta = {
        "model": NAME,
        "versions": mmf.versions(),
        "device": "cpu",
        "dtype": "float32",
        "attn_implementation": cfg._attn_implementation,
        "gguf_file": GGUF_NAME,
        "gguf_sha256": digest,
        "config": mmf.config_summary(model, f"models/{GGUF_NAME}"),
        "norm_gain_note": "GGUF norm weights are the applied gains (1 + w); checked for " + ", ".join(gain_checks),
        "eos_token_id": 1,
        "hook_layers": HOOK_LAYERS,
        "probe_stride": PROBE_STRIDE,
        "tokenizer": {"bos_token_id": tok.bos_token_id, "eos_token_id": tok.eos_token_id, "len": len(tok)},
        "tokenizer_cases": cases,
        "prompts": meta_prompts,
        "checks": checks,
        "keys": {k: {"shape": list(v.shape), "dtype": str(v.dtype)} for k, v in sorted(tensors.items())},
    }
    (mmf.REF_OUT / f"{NAME}.json").write_text(json.dumps(meta, indent=1, ensure_ascii=False) + "\n")
    print(f"{st_path.relative_to(mmf.ROOT)}  {st_path.stat().st_size}")


if __name__ == "__main__":
    main()
