#!/usr/bin/env python3
"""Reference gradients for the Swift engine's reverse pass, computed with torch autograd through Hugging Face
transformers (fp32, CPU, eager attention, one thread).

Run from the repository root (after make_model_fixtures.py, whose tiny models it loads):

    .venv-reference/bin/python reference/make_grad_fixtures.py [--only NAME ...]

For each model (the tiny fixture models, GPT-2's, GPT-NeoX's and Gemma 3's included, and SmolLM2 from models/SmolLM2-135M-Instruct.Q4_1.gguf) and
each prompt, for each metric at the last prompt token (docs/methods.md §19.1):

  gold-logprob   log_softmax(logits)[gold]                 (full vocabulary)
  gold-prob      softmax(logits)[gold]
  label-margin   logits[gold] - mean(logits[y'] for y' in labels if y' != gold)

it writes dM/d of

  z.<l>           the input of layer l's o_proj: [T, H * head_dim]
  resid_pre.<l>   the hidden state entering layer l: [T, D]
  resid_final     the input of the final norm: [T, D]
  attn.<l>        layer l's attention probabilities (output_attentions): [H, T, T], masked entries included

as Tests/Fixtures/reference/<model>.grads.safetensors (keys `p<i>.<metric>.<what>`) and <model>.grads.json
(prompts, ids, gold and label ids, metric values, versions, keys). The metric itself is evaluated in float64 on
the model's float32 logits, as the engine does. Weights are frozen;
gradients flow from the token embedding's output on (for GPT-2, the position rows are added after it).
`--only NAME[,NAME...]` regenerates only those models (e.g. `--only tiny-gpt2`). Every file is deterministic (sorted safetensors headers).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import make_model_fixtures as base  # noqa: E402  (sets the single-thread environment before torch loads)

import numpy as np  # noqa: E402
import torch  # noqa: E402
from safetensors.numpy import save_file  # noqa: E402
from transformers import AutoModelForCausalLM, AutoTokenizer  # noqa: E402

# (prompt, gold answer, label words). SmolLM2's gold and label tokens are each word's first token. The tiny
# models have random weights (and tiny-llama2's words all start with the token "▁"): their gold token is their
# own top-1 prediction and their labels are their top 4, so that no metric is vanishingly small.
PROMPTS = [
    ("Q: hot\nA: cold\n\nQ: big\nA:", " small", [" small", " large", " cold", " hot"]),
    ("The capital of France is Paris, and the capital of Italy is", " Rome", [" Rome", " Paris", " Berlin"]),
]
TINY_LABELS = 4
METRICS = ("gold-logprob", "gold-prob", "label-margin")
# SmolLM2: the first prompt only, and for gold-prob (whose gradients are p_gold times gold-logprob's) only the
# output end and layer 0, to keep the committed file small.
SMOL_PROMPTS = 1
SMOL_SHORT_METRIC = "gold-prob"


def first_token(tok, word: str) -> int:
    ids = tok(word, add_special_tokens=False)["input_ids"]
    assert ids, word
    return int(ids[0])


def metric_value(name: str, last: torch.Tensor, gold: int, wrong: list[int]) -> torch.Tensor:
    if name == "gold-logprob":
        return torch.log_softmax(last, -1)[gold]
    if name == "gold-prob":
        return torch.softmax(last, -1)[gold]
    assert name == "label-margin" and wrong
    return last[gold] - last[wrong].mean()


def gradients(model, ids: list[int], metric: str, gold: int, wrong: list[int]):
    """One forward and backward pass; returns (value, {what: np.float32 array})."""
    caps: dict[str, torch.Tensor] = {}
    handles = []

    def embed_hook(_m, _args, output):
        out = output.detach().requires_grad_(True)
        return out

    def pre(key):
        def f(_m, args, kwargs):
            t = args[0] if args else kwargs["hidden_states"]
            if t.grad_fn is not None:
                t.retain_grad()
            caps[key] = t
        return f

    parts = base.Parts(model)
    handles.append(parts.embed.register_forward_hook(embed_hook))
    for l, layer in enumerate(parts.layers):
        handles.append(layer.register_forward_pre_hook(pre(f"resid_pre.{l}"), with_kwargs=True))
        handles.append(parts.o_proj(layer).register_forward_pre_hook(pre(f"z.{l}"), with_kwargs=True))
    handles.append(parts.final_norm.register_forward_pre_hook(pre("resid_final"), with_kwargs=True))
    try:
        out = model(input_ids=torch.tensor([ids]), output_attentions=True, use_cache=False)
        for a in out.attentions:
            a.retain_grad()
        # The metric in float64 on the model's float32 logits, as the engine evaluates it (softmax sums in
        # Double): a float32 log-softmax's gradient carries rounding that SmolLM2's last layers amplify to
        # 4e-4 of resid_pre's largest gradient (measured against the same pass in float64).
        value = metric_value(metric, out.logits[0, -1].double(), gold, wrong)
        value.backward()
    finally:
        for h in handles:
            h.remove()
    grads = {k: base.f32(t.grad[0]) for k, t in caps.items()}
    for l, a in enumerate(out.attentions):
        grads[f"attn.{l}"] = base.f32(a.grad[0])
    assert all(np.isfinite(g).all() for g in grads.values())
    assert all(np.abs(g).max() > 0 for g in grads.values()), "an all-zero gradient"
    return float(value.detach()), grads


@torch.no_grad()
def top_predictions(model, ids: list[int], count: int) -> list[int]:
    last = model(input_ids=torch.tensor([ids]), use_cache=False).logits[0, -1]
    return [int(i) for i in torch.topk(last, count).indices]


def make(name: str, model, tok, *, prompt_count: int, attn_layers: list[int], short_metric: str | None,
         own_labels: bool, extra_meta: dict):
    for p in model.parameters():
        p.requires_grad_(False)
    L = model.config.num_hidden_layers
    tensors: dict[str, np.ndarray] = {}
    prompts = []
    for i, (text, answer, words) in enumerate(PROMPTS[:prompt_count]):
        ids, _ = base.tokenize(tok, text)
        if own_labels:
            labels = top_predictions(model, ids, TINY_LABELS)
            gold = labels[0]
        else:
            gold = first_token(tok, answer)
            labels = [first_token(tok, w) for w in words]
        wrong = list(dict.fromkeys(y for y in labels if y != gold))
        assert gold in labels and wrong, (name, text, labels)
        entry = dict(key=f"p{i}", text=text, ids=ids, n_tokens=len(ids), gold=gold, labels=labels,
                     wrong_labels=wrong, values={},
                     labels_from="the model's top predictions" if own_labels else f"first tokens of {words}")
        for metric in METRICS:
            value, grads = gradients(model, ids, metric, gold, wrong)
            entry["values"][metric] = value
            key = f"p{i}.{metric}"
            keep = [f"z.{l}" for l in range(L)] + [f"resid_pre.{l}" for l in range(L)] + ["resid_final"]
            keep += [f"attn.{l}" for l in attn_layers]
            if metric == short_metric:
                keep = ["z.0", "resid_pre.0", "resid_final"] + [f"attn.{l}" for l in attn_layers]
            for what in keep:
                tensors[f"{key}.{what}"] = grads[what]
        prompts.append(entry)

    out = base.REF_OUT / f"{name}.grads.safetensors"
    save_file(tensors, str(out), metadata={"model": name, "generator": "reference/make_grad_fixtures.py"})
    base.canonicalize_safetensors(out)
    meta = {
        "model": name, "versions": base.versions(), "device": "cpu", "dtype": "float32",
        "attn_implementation": model.config._attn_implementation,
        "metrics": list(METRICS), "attn_layers": attn_layers, "prompts": prompts, **extra_meta,
        "keys": {k: {"shape": list(v.shape), "dtype": str(v.dtype)} for k, v in sorted(tensors.items())},
    }
    (base.REF_OUT / f"{name}.grads.json").write_text(json.dumps(meta, indent=1, ensure_ascii=False) + "\n")
    print(f"{name}: {out.stat().st_size} bytes;",
          "; ".join(f"{p['key']} T={p['n_tokens']} " + " ".join(f"{m}={v:.4f}" for m, v in p["values"].items())
                    for p in prompts))


def main():
    only = base.selected_models()
    base.check_versions()
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    for spec in base.tiny_specs():
        if only is not None and spec["name"] not in only:
            continue
        folder = base.MODELS_OUT / spec["name"]
        model = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32, attn_implementation="eager").eval()
        tok = AutoTokenizer.from_pretrained(folder)
        L = model.config.num_hidden_layers
        make(spec["name"], model, tok, prompt_count=len(PROMPTS), attn_layers=list(range(L)), short_metric=None,
             own_labels=True, extra_meta={"source": f"Tests/Fixtures/models/{spec['name']}"})

    if only is not None and base.SMOL not in only:
        return
    gguf_path = base.GGUF_DIR / base.GGUF_NAME
    if not gguf_path.exists():
        sys.exit(f"{gguf_path} missing: run scripts/setup-model")
    digest = base.sha256(gguf_path.resolve())
    assert digest == base.GGUF_SHA256, f"{gguf_path}: sha256 {digest}, expected {base.GGUF_SHA256}"
    model = AutoModelForCausalLM.from_pretrained(base.GGUF_DIR, gguf_file=base.GGUF_NAME, dtype=torch.float32,
                                                 attn_implementation="eager").eval()
    tok = AutoTokenizer.from_pretrained(base.GGUF_DIR, gguf_file=base.GGUF_NAME)
    L = model.config.num_hidden_layers
    make(base.SMOL, model, tok, prompt_count=SMOL_PROMPTS, attn_layers=[0, L - 1], short_metric=SMOL_SHORT_METRIC,
         own_labels=False, extra_meta={"source": f"models/{base.GGUF_NAME}", "gguf_sha256": digest})


if __name__ == "__main__":
    main()
