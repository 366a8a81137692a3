#!/usr/bin/env python3
"""Reference fixtures for the Swift inference engine, computed with Hugging Face transformers (fp32, CPU).

Run from the repository root:

    .venv-reference/bin/python reference/make_model_fixtures.py [--only NAME ...]

Written with (and recorded in every <model>.json): Python 3.11.7, torch 2.15.0 (CPU), transformers 5.23.0,
tokenizers 0.23.3, safetensors 0.8.0, numpy 2.4.6, gguf 0.19.0 (torch reports 2.15.0+cu132; everything
runs on the CPU). Other versions print a warning.

What it writes (see reference/README.md for every key):

  Tests/Fixtures/models/tiny-llama3/   LlamaForCausalLM, GQA 4q/2kv, head_dim 24 != 64/4, llama3 RoPE, untied
  Tests/Fixtures/models/tiny-qwen2/    Qwen2ForCausalLM, q/k/v biases, MQA (1 kv head), tied, vocab padded
  Tests/Fixtures/models/tiny-llama2/   LlamaForCausalLM, MHA, tied, q/k/v/o biases, sentencepiece-style BPE
                                       with byte fallback, saved in several safetensors shards
  Tests/Fixtures/models/tiny-mistral/  MistralForCausalLM, GQA 4q/2kv, untied, sliding window 4 (shorter than
                                       every prompt), the tiny-llama2 tokenizer
  Tests/Fixtures/models/tiny-gpt2/     GPT2LMHeadModel: learned positions, LayerNorm with bias, fused Conv1D
                                       c_attn, gelu_new MLP, biases everywhere, tied; GPT-2's byte-level BPE
                                       (no BOS added)
  Tests/Fixtures/models/tiny-gemma3/   Gemma3ForCausalLM: 2 sliding (window 4) + 1 global layer with their own
                                       RoPE bases, GQA 4q/2kv, head_dim 24 != 64/4, query_pre_attn_scalar 32,
                                       q/k norms, norms before and after attention and MLP, (1 + weight) RMSNorm,
                                       GeGLU, embeddings scaled by sqrt(d_model), tied; the tiny-llama2 tokenizer.
                                       Also stores attn_post_norm_scale.<l> (the post-attention norm's scale)
  Tests/Fixtures/models/tiny-neox/     GPTNeoXForCausalLM: parallel attention and MLP, RoPE on 4 of 16 head dims,
                                       fused query_key_value per head, exact-GELU MLP, LayerNorm and biases,
                                       untied; Pythia-style byte-level BPE with NFC (no BOS added)
  Tests/Fixtures/models/tiny-neox-sequential/  the same with use_parallel_residual false, RoPE on 8 of 16 dims,
                                       config.json with rotary_pct / rotary_emb_base and embed_out.weight (as
                                       Pythia's hub files)
      each: config.json, generation_config.json, model.safetensors (or shards + index), tokenizer.json,
      tokenizer_config.json. Weights are seeded random (std well above HF's 0.02 so attention is peaked).
  Tests/Fixtures/reference/<model>.safetensors   hook captures, logits, greedy ids (one file per model)
  Tests/Fixtures/reference/<model>.json          prompts, ids, BOS facts, config summary, eos, versions, keys
  Tests/Fixtures/reference/SmolLM2-135M-Instruct.Q4_1.tensors.json
      per weight tensor of the GGUF: HF name, GGUF name, ggml type, shapes, first 8 values (and more
      probes) as transformers dequantizes them, with Q/K rows un-permuted.

The default real model is models/SmolLM2-135M-Instruct.Q4_1.gguf (placed by scripts/setup-model, ignored by
git); its sha256 is verified. Everything is deterministic: tokenizers are trained on an in-script corpus,
weights come from a seeded torch.Generator, and all forward passes are fp32 eager attention on CPU.

`--only NAME[,NAME...]` regenerates only those models (e.g. `--only tiny-gpt2`), leaving the other files as they are.

Sanity checks (asserts): per-head z·W_O decomposition equals attn_out; the residual stream is the sum of
embeddings, attention and MLP outputs; attention rows sum to 1 and are causal; unembed(final_norm(resid_final))
reproduces the logits; greedy ids equal the argmax of a cache-free recomputation; every GGUF tensor,
dequantized and (for attn_q / attn_k) un-permuted with the inverse of llama.cpp's permute, equals
transformers' weight exactly; each tiny model folder loads back with AutoModelForCausalLM / AutoTokenizer.
"""

from __future__ import annotations

import hashlib
import argparse
import json
import os
import platform
import shutil
import sys
import tempfile
from pathlib import Path

# One thread, no dynamic MKL threading: with several threads (and machine load) MKL may split reductions
# differently from run to run, which changes the last bits of the captures.
for _var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ[_var] = "1"
os.environ["MKL_DYNAMIC"] = "FALSE"
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")

import numpy as np
import safetensors
import tokenizers
import torch
import transformers
from safetensors.numpy import save_file
from tokenizers import Tokenizer
from transformers import (
    AutoModelForCausalLM,
    AutoTokenizer,
    GenerationConfig,
    Gemma3ForCausalLM,
    Gemma3TextConfig,
    GPT2Config,
    GPT2LMHeadModel,
    GPTNeoXConfig,
    GPTNeoXForCausalLM,
    LlamaConfig,
    LlamaForCausalLM,
    MistralConfig,
    MistralForCausalLM,
    PreTrainedTokenizerFast,
    Qwen2Config,
    Qwen2ForCausalLM,
)

sys.path.insert(0, str(Path(__file__).resolve().parent))
import tiny_tokenizers  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
MODELS_OUT = ROOT / "Tests" / "Fixtures" / "models"
REF_OUT = ROOT / "Tests" / "Fixtures" / "reference"
GGUF_DIR = ROOT / "models"
GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
GGUF_SHA256 = "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"
SMOL = "SmolLM2-135M-Instruct.Q4_1"

EXPECTED_VERSIONS = {"torch": "2.15.0", "transformers": "5.23.0", "tokenizers": "0.23.3", "safetensors": "0.8.0",
                     "numpy": "2.4.6"}

# Prompts: ICL, a plain sentence, digits + Unicode. The same for every model.
PROMPTS = [
    "Q: hot\nA: cold\n\nQ: big\nA:",
    "The capital of France is Paris, and the capital of Italy is",
    "In 2024, 1234 apples cost €56.78 — naïve café, 日本語 ✓",
]
# Extra SmolLM2-only prompt (ChatML; special tokens written as text) whose greedy continuation should end at EOS.
SMOL_CHAT_PROMPT = "<|im_start|>user\nWhat is the capital of France?<|im_end|>\n<|im_start|>assistant\n"
GREEDY_PROMPTS = (0, 1)
MAX_NEW_TOKENS = 20

SEED = 1234


def versions() -> dict:
    import gguf  # noqa: F401
    from importlib.metadata import version

    return {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "tokenizers": tokenizers.__version__,
        "safetensors": safetensors.__version__,
        "numpy": np.__version__,
        "gguf": version("gguf"),
        "accelerate": version("accelerate"),
    }


def check_versions():
    v = versions()
    for k, want in EXPECTED_VERSIONS.items():
        if not v[k].startswith(want):
            print(f"warning: {k} {v[k]} (fixtures were made with {want})", file=sys.stderr)


# ----------------------------------------------------------------------------------------------------------
# Tiny models
# ----------------------------------------------------------------------------------------------------------

def tiny_specs():
    """(name, tokenizer style, config class, model class, config kwargs, init stds, save kwargs)."""
    return [
        dict(
            name="tiny-llama3", tok="llama3", cls=(LlamaConfig, LlamaForCausalLM),
            config=dict(hidden_size=64, intermediate_size=112, num_hidden_layers=3, num_attention_heads=4,
                        num_key_value_heads=2, head_dim=24, rms_norm_eps=1e-5, max_position_embeddings=256,
                        rope_parameters={"rope_type": "llama3", "rope_theta": 500000.0, "factor": 8.0,
                                         "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                                         "original_max_position_embeddings": 32},
                        tie_word_embeddings=False, attention_bias=False, mlp_bias=False),
            vocab_pad=0, seed=SEED + 1, save=dict(),
        ),
        dict(
            name="tiny-qwen2", tok="qwen2", cls=(Qwen2Config, Qwen2ForCausalLM),
            config=dict(hidden_size=64, intermediate_size=96, num_hidden_layers=2, num_attention_heads=4,
                        num_key_value_heads=1, rms_norm_eps=1e-6, max_position_embeddings=256,
                        rope_parameters={"rope_type": "default", "rope_theta": 1000000.0},
                        tie_word_embeddings=True, use_sliding_window=False),
            # Like Qwen2 (151936 rows for 151646 tokens), the embedding has rows no token maps to.
            vocab_pad=512, seed=SEED + 2, save=dict(),
        ),
        dict(
            name="tiny-llama2", tok="llama2", cls=(LlamaConfig, LlamaForCausalLM),
            config=dict(hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4,
                        num_key_value_heads=4, rms_norm_eps=1e-5, max_position_embeddings=256,
                        rope_parameters={"rope_type": "default", "rope_theta": 10000.0},
                        tie_word_embeddings=True, attention_bias=True, mlp_bias=False),
            vocab_pad=0, seed=SEED + 3, save=dict(max_shard_size="150KB"),
        ),
        dict(
            # A sliding window shorter than every prompt: each query sees the keys (t - 4, t] only.
            name="tiny-mistral", tok="llama2", cls=(MistralConfig, MistralForCausalLM),
            config=dict(hidden_size=64, intermediate_size=96, num_hidden_layers=2, num_attention_heads=4,
                        num_key_value_heads=2, head_dim=16, rms_norm_eps=1e-5, max_position_embeddings=256,
                        rope_parameters={"rope_type": "default", "rope_theta": 10000.0}, sliding_window=4,
                        tie_word_embeddings=False),
            vocab_pad=0, seed=SEED + 4, save=dict(),
        ),
        dict(
            name="tiny-gpt2", tok="gpt2", cls=(GPT2Config, GPT2LMHeadModel),
            config=dict(n_embd=64, n_layer=2, n_head=4, n_inner=None, n_positions=96, layer_norm_epsilon=1e-5,
                        activation_function="gelu_new", tie_word_embeddings=True),
            vocab_pad=0, seed=SEED + 4, save=dict(),
        ),
        dict(
            # Layers 0 and 1 slide (window 4, shorter than every prompt), layer 2 is global; the two kinds
            # rotate with their own bases; the attention scale 32^-0.5 differs from head_dim^-0.5.
            name="tiny-gemma3", tok="llama2", cls=(Gemma3TextConfig, Gemma3ForCausalLM),
            config=dict(hidden_size=64, intermediate_size=96, num_hidden_layers=3, num_attention_heads=4,
                        num_key_value_heads=2, head_dim=24, rms_norm_eps=1e-6, max_position_embeddings=256,
                        query_pre_attn_scalar=32, sliding_window=4,
                        layer_types=["sliding_attention", "sliding_attention", "full_attention"],
                        rope_parameters={"sliding_attention": {"rope_type": "default", "rope_theta": 10000.0},
                                         "full_attention": {"rope_type": "default", "rope_theta": 1000000.0}},
                        hidden_activation="gelu_pytorch_tanh", tie_word_embeddings=True),
            vocab_pad=0, seed=SEED + 5, save=dict(),
        ),
        dict(
            # Pythia's layout: parallel attention and MLP, RoPE on 4 of each head's 16 dimensions (rotary_pct 0.25),
            # exact-GELU MLP 4x wide, biases everywhere, untied embed_out. Saved as transformers 5.x writes it
            # (rope_parameters, lm_head.weight).
            name="tiny-neox", tok="neox", cls=(GPTNeoXConfig, GPTNeoXForCausalLM),
            config=dict(hidden_size=64, intermediate_size=256, num_hidden_layers=2, num_attention_heads=4,
                        hidden_act="gelu", max_position_embeddings=256, layer_norm_eps=1e-5,
                        rope_parameters={"rope_type": "default", "rope_theta": 10000.0, "partial_rotary_factor": 0.25},
                        use_parallel_residual=True, tie_word_embeddings=False, attention_bias=True),
            vocab_pad=0, seed=SEED + 5, save=dict(),
        ),
        dict(
            # The sequential residual (use_parallel_residual false), RoPE on half of each head, and the files as
            # Pythia checkpoints have them: config.json with 4.x's rotary_pct / rotary_emb_base, embed_out.weight.
            name="tiny-neox-sequential", tok="neox", cls=(GPTNeoXConfig, GPTNeoXForCausalLM),
            config=dict(hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4,
                        hidden_act="gelu", max_position_embeddings=256, layer_norm_eps=1e-5,
                        rope_parameters={"rope_type": "default", "rope_theta": 1000.0, "partial_rotary_factor": 0.5},
                        use_parallel_residual=False, tie_word_embeddings=False, attention_bias=True),
            vocab_pad=0, seed=SEED + 6, save=dict(), pythia_files=True,
        ),
    ]


INIT_STD = {"embed": 0.5, "matrix": 0.18, "bias": 0.2, "norm_noise": 0.1}


@torch.no_grad()
def init_weights(model: torch.nn.Module, seed: int):
    g = torch.Generator().manual_seed(seed)
    # Gemma's RMSNorm multiplies by (1 + weight): its weights are drawn around 0 so that the gains are near 1.
    norm_centre = 0.0 if model.config.model_type == "gemma3_text" else 1.0
    for name, p in model.named_parameters():  # tied lm_head appears once (as embed_tokens / wte)
        if name.endswith("norm.weight") or ".ln_" in name and name.endswith(".weight"):
            p.copy_(norm_centre + INIT_STD["norm_noise"] * torch.randn(p.shape, generator=g))
        elif name.endswith(".bias"):
            p.copy_(INIT_STD["bias"] * torch.randn(p.shape, generator=g))
        elif "embed_tokens" in name or ".wte." in name or ".wpe." in name or ".embed_in." in name:
            p.copy_(INIT_STD["embed"] * torch.randn(p.shape, generator=g))
        else:
            p.copy_(INIT_STD["matrix"] * torch.randn(p.shape, generator=g))


def build_tiny(spec) -> Path:
    out = MODELS_OUT / spec["name"]
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)

    tok, info = tiny_tokenizers.BUILDERS[spec["tok"]]()
    hf_tok = PreTrainedTokenizerFast(tokenizer_object=tok, **{k: v for k, v in info.items() if v is not None})
    vocab = max(len(hf_tok), spec["vocab_pad"])

    conf_cls, model_cls = spec["cls"]
    ids = dict(bos_token_id=hf_tok.bos_token_id, eos_token_id=hf_tok.eos_token_id, pad_token_id=hf_tok.pad_token_id)
    config = conf_cls(vocab_size=vocab, **ids, **spec["config"])
    torch.manual_seed(spec["seed"])
    model = model_cls(config).float().eval()
    init_weights(model, spec["seed"])
    if config.tie_word_embeddings:
        assert model.lm_head.weight.data_ptr() == Parts(model).embed.weight.data_ptr()
    model.generation_config = GenerationConfig(**ids)
    model.save_pretrained(out, **spec["save"])
    for f in out.glob("*.safetensors"):
        canonicalize_safetensors(f)
    hf_tok.save_pretrained(out)
    if spec.get("pythia_files"):
        pythia_style_files(out)
    return out


def pythia_style_files(folder: Path):
    """Rewrites a GPT-NeoX folder the way Pythia's hub checkpoints are: config.json with 4.x's rotary_pct and
    rotary_emb_base instead of rope_parameters, the unembedding stored as embed_out.weight (transformers 5.x renames
    it to lm_head on load). check_folder_loads then proves transformers reads the rewritten folder unchanged."""
    config = json.loads((folder / "config.json").read_text())
    rope = config.pop("rope_parameters")
    assert rope["rope_type"] == "default", rope
    config["rotary_pct"] = rope["partial_rotary_factor"]
    config["rotary_emb_base"] = rope["rope_theta"]
    (folder / "config.json").write_text(json.dumps(config, indent=2, sort_keys=True) + "\n")
    path = folder / "model.safetensors"
    with safetensors.safe_open(str(path), "np") as f:
        tensors = {k: f.get_tensor(k) for k in f.keys()}
        metadata = f.metadata()
    if "lm_head.weight" in tensors:
        tensors["embed_out.weight"] = tensors.pop("lm_head.weight")
    assert "embed_out.weight" in tensors, sorted(tensors)
    save_file(tensors, str(path), metadata=metadata)
    canonicalize_safetensors(path)


def check_folder_loads(folder: Path):
    """A copy of the folder alone must be enough for AutoModelForCausalLM / AutoTokenizer, giving the same
    weights; the raw tokenizer.json (what the Swift side reads) gives the same ids as the HF tokenizer."""
    ref = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32).state_dict()
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / folder.name
        shutil.copytree(folder, copy)
        model = AutoModelForCausalLM.from_pretrained(copy, dtype=torch.float32)
        tok = AutoTokenizer.from_pretrained(copy)
        raw = Tokenizer.from_file(str(copy / "tokenizer.json"))
    sd = model.state_dict()
    assert sd.keys() == ref.keys() and all(torch.equal(sd[k], ref[k]) for k in sd)
    assert all(v.dtype == torch.float32 for v in sd.values())
    for p in PROMPTS + ["", " leading space", "trailing space ", "tab\tand\r\nCRLF", "<|endoftext|> </s> <s>"]:
        assert tok(p)["input_ids"] == raw.encode(p).ids, (folder, p)
    for p in PROMPTS:
        assert tok.decode(tok(p)["input_ids"], skip_special_tokens=True) == p, (folder, p)
    return tok


# ----------------------------------------------------------------------------------------------------------
# Captures
# ----------------------------------------------------------------------------------------------------------

class Parts:
    """Where each hook point sits: Llama-style models (model.model.layers, self_attn.o_proj, post_attention_layernorm,
    model.norm), GPT-2 (transformer.h, attn.c_proj, ln_2, transformer.ln_f; Conv1D weights are [in, out]) or Gemma 3
    (pre_feedforward_layernorm before the MLP; attn_out and mlp_out are the outputs of post_attention_layernorm and
    post_feedforward_layernorm, what each block adds to the residual stream, as TransformerLens names them)."""

    def __init__(self, model):
        self.gpt2 = model.config.model_type == "gpt2"
        self.gemma = model.config.model_type == "gemma3_text"
        self.neox = model.config.model_type == "gpt_neox"
        self.parallel = self.neox and model.config.use_parallel_residual
        if self.gpt2:
            t = model.transformer
            self.embed, self.layers, self.final_norm = t.wte, list(t.h), t.ln_f
        elif self.neox:
            t = model.gpt_neox
            self.embed, self.layers, self.final_norm = t.embed_in, list(t.layers), t.final_layer_norm
        else:
            self.embed, self.layers, self.final_norm = model.model.embed_tokens, list(model.model.layers), model.model.norm

    def attn(self, layer):
        return layer.attn if self.gpt2 else layer.attention if self.neox else layer.self_attn

    def o_proj(self, layer):
        return self.attn(layer).c_proj if self.gpt2 else layer.attention.dense if self.neox else layer.self_attn.o_proj

    def W_O(self, layer) -> torch.Tensor:
        """[d, H*hd], as nn.Linear holds it."""
        w = self.o_proj(layer).weight
        return w.T if self.gpt2 else w

    def mlp_norm(self, layer):
        if self.gemma:
            return layer.pre_feedforward_layernorm
        return layer.ln_2 if self.gpt2 else layer.post_attention_layernorm

    def attn_out_module(self, layer):
        """The module whose output is hook_attn_out."""
        return layer.post_attention_layernorm if self.gemma else self.o_proj(layer)

    def mlp_out_module(self, layer):
        return layer.post_feedforward_layernorm if self.gemma else layer.mlp

    def layer_norm_eps(self, model):
        return model.config.layer_norm_epsilon if self.gpt2 else model.config.layer_norm_eps

    def resid_pre0(self, model, ids) -> torch.Tensor:
        rows = self.embed.weight[torch.tensor(ids)]
        if self.gemma:  # Gemma3TextScaledWordEmbedding: the fp32 sqrt(d_model) in the weights' dtype
            return rows * self.embed.embed_scale.to(rows.dtype)
        return rows + model.transformer.wpe.weight[torch.arange(len(ids))] if self.gpt2 else rows

    def recompute_final_norm(self, model, x):
        """(scale [T], normed [T, d]) of the final norm recomputed from x: RMSNorm, or LayerNorm with its centring."""
        if self.gemma:
            scale = torch.rsqrt(x.pow(2).mean(-1) + model.config.rms_norm_eps)
            return scale, (x * scale[:, None]) * (1.0 + self.final_norm.weight)
        if self.gpt2 or self.neox:
            centred = x - x.mean(-1, keepdim=True)
            scale = torch.rsqrt(centred.pow(2).mean(-1) + self.layer_norm_eps(model))
            return scale, self.final_norm.weight * (centred * scale[:, None]) + self.final_norm.bias
        scale = torch.rsqrt(x.pow(2).mean(-1) + model.config.rms_norm_eps)
        return scale, self.final_norm.weight * (x * scale[:, None])


def _hidden_arg(args, kwargs):
    return args[0] if args else kwargs["hidden_states"]


@torch.no_grad()
def run_with_hooks(model, ids: list[int]):
    """One forward pass; returns (logits [T,V], caps dict of [T,...] float32 tensors, attentions list [H,T,T])."""
    caps: dict[str, torch.Tensor] = {}
    handles = []

    def pre(key):
        def f(_m, args, kwargs):
            caps[key] = _hidden_arg(args, kwargs)[0].detach().clone()
        return f

    def post(key):
        def f(_m, _args, output):
            out = output[0] if isinstance(output, tuple) else output
            caps[key] = out[0].detach().clone()
        return f

    parts = Parts(model)
    for l, layer in enumerate(parts.layers):
        handles.append(layer.register_forward_pre_hook(pre(f"resid_pre.{l}"), with_kwargs=True))
        handles.append(parts.o_proj(layer).register_forward_pre_hook(pre(f"z.{l}"), with_kwargs=True))
        handles.append(parts.o_proj(layer).register_forward_hook(post(f"_o_proj_out.{l}")))
        handles.append(parts.attn_out_module(layer).register_forward_hook(post(f"attn_out.{l}")))
        handles.append(parts.attn(layer).register_forward_hook(post(f"_self_attn_out.{l}")))
        handles.append(parts.mlp_norm(layer).register_forward_pre_hook(pre(f"resid_mid.{l}"), with_kwargs=True))
        handles.append(parts.mlp_out_module(layer).register_forward_hook(post(f"mlp_out.{l}")))
        handles.append(layer.register_forward_hook(post(f"_layer_out.{l}")))
    handles.append(parts.final_norm.register_forward_pre_hook(pre("resid_final"), with_kwargs=True))
    handles.append(parts.final_norm.register_forward_hook(post("_normed")))
    try:
        out = model(input_ids=torch.tensor([ids]), output_attentions=True, use_cache=False)
    finally:
        for h in handles:
            h.remove()
    if parts.parallel:
        # The MLP's norm reads resid_pre; resid_mid is defined as resid_pre + attn_out (docs/methods.md §25), the
        # sum the engine exposes, computed in the engine's order.
        for l in range(len(parts.layers)):
            caps[f"_mlp_input.{l}"] = caps[f"resid_mid.{l}"]
            caps[f"resid_mid.{l}"] = caps[f"resid_pre.{l}"] + caps[f"attn_out.{l}"]
    logits = out.logits[0].float()
    attns = [a[0] for a in out.attentions]
    return logits, caps, attns


def rel_err(a: torch.Tensor, b: torch.Tensor) -> float:
    return float((a - b).abs().max() / b.abs().max().clamp_min(1e-30))


@torch.no_grad()
def sanity_checks(model, ids, logits, caps, attns) -> dict:
    cfg = model.config
    L, H, hd = cfg.num_hidden_layers, cfg.num_attention_heads, head_dim(model)
    T = len(ids)
    errs = {}
    parts = Parts(model)
    emb = parts.resid_pre0(model, ids)
    assert torch.equal(caps["resid_pre.0"], emb), "resid_pre.0 != embedding rows (+ position rows)"
    total = emb.clone()
    worst_decomp = 0.0
    for l, layer in enumerate(parts.layers):
        z, o, attn_out = caps[f"z.{l}"], caps[f"_o_proj_out.{l}"], caps[f"attn_out.{l}"]
        assert z.shape == (T, H * hd), z.shape
        assert torch.equal(o, caps[f"_self_attn_out.{l}"]), "self_attn output != o_proj output"
        if parts.gemma:
            # The post-attention norm's per-token scale s = 1/sqrt(mean(o^2) + eps), and the norm recomputed with it.
            s = torch.rsqrt(o.pow(2).mean(-1) + cfg.rms_norm_eps)
            caps[f"attn_post_norm_scale.{l}"] = s
            again = (o * s[:, None]) * (1.0 + layer.post_attention_layernorm.weight)
            assert torch.equal(again, attn_out), f"post-attention norm recomputation {l}"
        else:
            assert torch.equal(o, attn_out)
        W_O = parts.W_O(layer)  # [d, H*hd]
        acc = torch.zeros_like(o, dtype=torch.float64)
        for h in range(H):
            sl = slice(h * hd, (h + 1) * hd)
            acc += z[:, sl].double() @ W_O[:, sl].double().T
        if parts.o_proj(layer).bias is not None:
            acc += parts.o_proj(layer).bias.double()
        worst_decomp = max(worst_decomp, rel_err(acc, o.double()))
        assert torch.equal(caps[f"resid_mid.{l}"], caps[f"resid_pre.{l}"] + attn_out), f"resid_mid {l}"
        nxt = caps[f"resid_pre.{l + 1}"] if l + 1 < L else caps["resid_final"]
        if parts.parallel:
            # GPTNeoXLayer: mlp(ln2(x)) + attn(ln1(x)) + x, the MLP reading x itself.
            assert torch.equal(caps[f"_mlp_input.{l}"], caps[f"resid_pre.{l}"]), f"parallel MLP input {l}"
            assert torch.equal(nxt, caps[f"mlp_out.{l}"] + attn_out + caps[f"resid_pre.{l}"]), f"layer {l} output"
            errs["parallel_sum_order_rel"] = max(errs.get("parallel_sum_order_rel", 0.0),
                                                 rel_err(caps[f"resid_mid.{l}"] + caps[f"mlp_out.{l}"], nxt))
            assert errs["parallel_sum_order_rel"] < 1e-6, errs
        else:
            assert torch.equal(nxt, caps[f"resid_mid.{l}"] + caps[f"mlp_out.{l}"]), f"layer {l} output"
        assert torch.equal(nxt, caps[f"_layer_out.{l}"])
        total += attn_out + caps[f"mlp_out.{l}"]
    errs["z_WO_decomposition_rel"] = worst_decomp
    assert worst_decomp < 1e-5, worst_decomp
    errs["residual_sum_rel"] = rel_err(total, caps["resid_final"])
    assert errs["residual_sum_rel"] < 1e-5, errs

    x = caps["resid_final"]
    scale, normed = parts.recompute_final_norm(model, x)
    caps["final_norm_scale"] = scale
    if parts.gpt2 or parts.neox:  # torch's LayerNorm kernel orders its sums differently
        errs["final_norm_rel"] = rel_err(normed, caps["_normed"])
        assert errs["final_norm_rel"] < 1e-6, errs
    else:
        assert torch.equal(normed, caps["_normed"]), "final norm recomputation"
    relogits = normed @ model.lm_head.weight.T
    errs["unembed_rel"] = rel_err(relogits, logits)
    assert errs["unembed_rel"] < 1e-5, errs

    worst_row = 0.0
    for a in attns:
        assert a.shape == (H, T, T)
        worst_row = max(worst_row, float((a.sum(-1) - 1).abs().max()))
        assert float(torch.triu(a, diagonal=1).abs().max()) == 0.0, "attention not causal"
    errs["attn_row_sum_abs"] = worst_row
    assert worst_row < 1e-5, worst_row
    return errs


@torch.no_grad()
def greedy(model, ids: list[int]) -> dict:
    gen_cfg = GenerationConfig.from_dict({**model.generation_config.to_dict(), "do_sample": False,
                                         "max_new_tokens": MAX_NEW_TOKENS})
    inp = torch.tensor([ids])
    out = model.generate(inp, attention_mask=torch.ones_like(inp), generation_config=gen_cfg)
    new = out[0, len(ids):].tolist()
    eos = gen_cfg.eos_token_id
    eos_set = set(eos if isinstance(eos, list) else [eos]) if eos is not None else set()
    stopped = bool(new) and new[-1] in eos_set and len(new) <= MAX_NEW_TOKENS
    # Cache-free recomputation: every new token must be the argmax of a full forward pass.
    full = model(input_ids=out, use_cache=False).logits[0]
    margins = []
    for i, t in enumerate(new):
        row = full[len(ids) - 1 + i]
        top2 = torch.topk(row, 2)
        assert int(top2.indices[0]) == t, f"greedy token {i}: generate {t} vs recompute {int(top2.indices[0])}"
        margins.append(float(top2.values[0] - top2.values[1]))
    used = {k: v for k, v in gen_cfg.to_diff_dict().items() if k != "transformers_version"}
    return dict(new_ids=new, stopped_at_eos=stopped, n_new=len(new), min_top1_top2_margin=min(margins),
                generation_config=used)


def head_dim(model) -> int:
    if model.config.model_type == "gpt2":
        return model.transformer.h[0].attn.head_dim
    if model.config.model_type == "gpt_neox":
        return model.gpt_neox.layers[0].attention.head_size
    hd = model.model.layers[0].self_attn.head_dim
    assert hd == (getattr(model.config, "head_dim", None) or model.config.hidden_size // model.config.num_attention_heads)
    return hd


def gpt2_config_summary(model, source: str) -> dict:
    c = model.config
    return {
        "source": source,
        "architecture": type(model).__name__,
        "model_type": c.model_type,
        "vocab_size": c.vocab_size,
        "hidden_size": c.n_embd,
        "intermediate_size": c.n_inner or 4 * c.n_embd,
        "num_hidden_layers": c.n_layer,
        "num_attention_heads": c.n_head,
        "num_key_value_heads": c.n_head,
        "head_dim": head_dim(model),
        "layer_norm_epsilon": c.layer_norm_epsilon,
        "max_position_embeddings": c.n_positions,
        "positions": "learned (wpe)",
        "activation_function": c.activation_function,
        "tie_word_embeddings": bool(c.tie_word_embeddings),
        "biases": "c_attn, c_proj, c_fc, mlp c_proj, every LayerNorm",
        "bos_token_id": c.bos_token_id,
        "eos_token_id": c.eos_token_id,
        "pad_token_id": c.pad_token_id,
    }


def gemma3_config_summary(model, source: str) -> dict:
    c = model.config
    rotary = model.model.rotary_emb
    return {
        "source": source,
        "architecture": type(model).__name__,
        "model_type": c.model_type,
        "vocab_size": c.vocab_size,
        "hidden_size": c.hidden_size,
        "intermediate_size": c.intermediate_size,
        "num_hidden_layers": c.num_hidden_layers,
        "num_attention_heads": c.num_attention_heads,
        "num_key_value_heads": c.num_key_value_heads,
        "head_dim": head_dim(model),
        "rms_norm_eps": c.rms_norm_eps,
        "max_position_embeddings": c.max_position_embeddings,
        "layer_types": list(c.layer_types),
        "sliding_window": c.sliding_window,
        "rope_parameters": dict(c.rope_parameters),
        "rope_inv_freq": {t: [float(x) for x in getattr(rotary, f"{t}_inv_freq").float()] for t in rotary.layer_types},
        "query_pre_attn_scalar": c.query_pre_attn_scalar,
        "attention_scaling": float(model.model.layers[0].self_attn.scaling),
        "embed_scale": float(model.model.embed_tokens.embed_scale),
        "final_logit_softcapping": c.final_logit_softcapping,
        "attn_logit_softcapping": c.attn_logit_softcapping,
        "hidden_activation": c.hidden_activation,
        "tie_word_embeddings": bool(c.tie_word_embeddings),
        "bos_token_id": c.bos_token_id,
        "eos_token_id": c.eos_token_id,
        "pad_token_id": c.pad_token_id,
    }


def neox_config_summary(model, source: str) -> dict:
    c = model.config
    attn = model.gpt_neox.layers[0].attention
    return {
        "source": source,
        "architecture": type(model).__name__,
        "model_type": c.model_type,
        "vocab_size": c.vocab_size,
        "hidden_size": c.hidden_size,
        "intermediate_size": c.intermediate_size,
        "num_hidden_layers": c.num_hidden_layers,
        "num_attention_heads": c.num_attention_heads,
        "num_key_value_heads": c.num_attention_heads,
        "head_dim": head_dim(model),
        "rotary_ndims": attn.rotary_ndims,
        "rope_parameters": dict(c.rope_parameters),
        "rope_inv_freq": [float(x) for x in model.gpt_neox.rotary_emb.inv_freq.float()],
        "rope_style": "rotate_half (HF) on the first rotary_ndims of each head: pairs (i, i + rotary_ndims/2)",
        "qkv_layout": "query_key_value rows [heads, 3, head_dim]",
        "attention_scaling": attn.scaling,
        "use_parallel_residual": bool(c.use_parallel_residual),
        "layer_norm_eps": c.layer_norm_eps,
        "max_position_embeddings": c.max_position_embeddings,
        "hidden_act": c.hidden_act,
        "attention_bias": bool(c.attention_bias),
        "tie_word_embeddings": bool(c.tie_word_embeddings),
        "bos_token_id": c.bos_token_id,
        "eos_token_id": c.eos_token_id,
        "pad_token_id": c.pad_token_id,
    }


def config_summary(model, source: str) -> dict:
    c = model.config
    if c.model_type == "gpt2":
        return gpt2_config_summary(model, source)
    if c.model_type == "gemma3_text":
        return gemma3_config_summary(model, source)
    if c.model_type == "gpt_neox":
        return neox_config_summary(model, source)
    rope = dict(getattr(c, "rope_parameters", None) or {})
    attn = model.model.layers[0].self_attn
    return {
        "source": source,
        "architecture": type(model).__name__,
        "model_type": c.model_type,
        "vocab_size": c.vocab_size,
        "hidden_size": c.hidden_size,
        "intermediate_size": c.intermediate_size,
        "num_hidden_layers": c.num_hidden_layers,
        "num_attention_heads": c.num_attention_heads,
        "num_key_value_heads": c.num_key_value_heads,
        "head_dim": head_dim(model),
        "head_dim_in_config": getattr(c, "head_dim", None),
        "rms_norm_eps": c.rms_norm_eps,
        "max_position_embeddings": c.max_position_embeddings,
        "rope_parameters": rope,
        "rope_style": "rotate_half (HF): pairs (i, i + head_dim/2)",
        # float32 inverse frequencies transformers uses (after llama3 scaling), and the cos/sin multiplier.
        "rope_inv_freq": [float(x) for x in model.model.rotary_emb.inv_freq.float()],
        "rope_attention_scaling": float(model.model.rotary_emb.attention_scaling),
        "tie_word_embeddings": bool(c.tie_word_embeddings),
        "q_bias": attn.q_proj.bias is not None,
        "k_bias": attn.k_proj.bias is not None,
        "v_bias": attn.v_proj.bias is not None,
        "o_bias": attn.o_proj.bias is not None,
        "mlp_bias": model.model.layers[0].mlp.gate_proj.bias is not None,
        "hidden_act": c.hidden_act,
        "bos_token_id": c.bos_token_id,
        "eos_token_id": c.eos_token_id,
        "pad_token_id": c.pad_token_id,
    }


def tokenize(tok, text: str) -> tuple[list[int], bool]:
    ids = tok(text)["input_ids"]
    plain = tok(text, add_special_tokens=False)["input_ids"]
    bos_added = len(ids) == len(plain) + 1 and tok.bos_token_id is not None and ids[0] == tok.bos_token_id
    assert ids == plain or (bos_added and ids[1:] == plain), "unexpected special tokens"
    return ids, bos_added


def f32(t: torch.Tensor) -> np.ndarray:
    return np.ascontiguousarray(t.detach().to(torch.float32).cpu().numpy())


def i32(x) -> np.ndarray:
    return np.ascontiguousarray(np.asarray(x, dtype=np.int32))


def make_reference(name: str, model, tok, *, prompts, full_hooks, z_prompts, attn_prompts, attn_layers,
                   all_logits, extra_greedy_prompts=(), extra_meta=None):
    """Runs all prompts and writes <name>.safetensors + <name>.json. Returns the json dict."""
    tensors: dict[str, np.ndarray] = {}
    meta_prompts = []
    checks = {}
    L = model.config.num_hidden_layers
    for i, text in enumerate(list(prompts) + list(extra_greedy_prompts)):
        p = f"p{i}"
        ids, bos_added = tokenize(tok, text)
        tensors[f"{p}.ids"] = i32(ids)
        logits, caps, attns = run_with_hooks(model, ids)
        checks[p] = sanity_checks(model, ids, logits, caps, attns)
        last = logits[-1]
        top = torch.topk(last, 11)
        tensors[f"{p}.logits_last"] = f32(last)
        tensors[f"{p}.top10"] = i32(top.indices[:10].tolist())
        entry = dict(key=p, text=text, ids=ids, n_tokens=len(ids), bos_added=bos_added,
                     tokens=tok.convert_ids_to_tokens(ids),
                     top10_gap_10_11=float(top.values[9] - top.values[10]),
                     top1_top2_margin=float(top.values[0] - top.values[1]))
        is_extra = i >= len(prompts)
        if not is_extra:
            if all_logits:
                tensors[f"{p}.logits"] = f32(logits)
            if i in z_prompts:
                for l in range(L):
                    tensors[f"{p}.z.{l}"] = f32(caps[f"z.{l}"])
            if i in full_hooks:
                for l in range(L):
                    for k in ("resid_pre", "attn_out", "resid_mid", "mlp_out"):
                        tensors[f"{p}.{k}.{l}"] = f32(caps[f"{k}.{l}"])
                for l in range(L):
                    if f"attn_post_norm_scale.{l}" in caps:
                        tensors[f"{p}.attn_post_norm_scale.{l}"] = f32(caps[f"attn_post_norm_scale.{l}"])
                tensors[f"{p}.resid_final"] = f32(caps["resid_final"])
                tensors[f"{p}.final_norm_scale"] = f32(caps["final_norm_scale"])
            if i in attn_prompts:
                for l in attn_layers:
                    tensors[f"{p}.attn.{l}"] = f32(attns[l])
        if i in GREEDY_PROMPTS or is_extra:
            g = greedy(model, ids)
            tensors[f"{p}.greedy"] = i32(g["new_ids"])
            g["text"] = tok.decode(g["new_ids"])
            entry["greedy"] = g
        entry["extra_prompt"] = is_extra
        entry["stored"] = sorted(k[len(p) + 1:] for k in tensors if k.startswith(p + "."))
        meta_prompts.append(entry)

    REF_OUT.mkdir(parents=True, exist_ok=True)
    st_path = REF_OUT / f"{name}.safetensors"
    save_file(tensors, str(st_path), metadata={"model": name, "generator": "reference/make_model_fixtures.py"})
    canonicalize_safetensors(st_path)
    eos = model.generation_config.eos_token_id
    meta = {
        "model": name,
        "versions": versions(),
        "device": "cpu",
        "dtype": "float32",
        "attn_implementation": model.config._attn_implementation,
        "config": config_summary(model, extra_meta.get("source", "") if extra_meta else ""),
        "tokenizer": {
            "bos_token": tok.bos_token, "bos_token_id": tok.bos_token_id,
            "eos_token": tok.eos_token, "eos_token_id": tok.eos_token_id,
            "pad_token_id": tok.pad_token_id, "len": len(tok),
            "adds_bos": bool(meta_prompts[0]["bos_added"]),
        },
        "eos_token_id": eos,
        "generation": {"do_sample": False, "max_new_tokens": MAX_NEW_TOKENS,
                       "generation_config": {k: v for k, v in model.generation_config.to_diff_dict().items()
                                             if k != "transformers_version"}},
        "prompts": meta_prompts,
        "checks": checks,
        "keys": {k: {"shape": list(v.shape), "dtype": str(v.dtype)} for k, v in sorted(tensors.items())},
    }
    if extra_meta:
        meta.update(extra_meta)
    (REF_OUT / f"{name}.json").write_text(json.dumps(meta, indent=1, ensure_ascii=False) + "\n")
    return meta


# ----------------------------------------------------------------------------------------------------------
# SmolLM2 GGUF
# ----------------------------------------------------------------------------------------------------------

def canonicalize_safetensors(path: Path):
    """Rewrites a safetensors header with sorted keys. The safetensors writer serialises its header from a hash
    map, so the JSON key order (not the data) changes from run to run; this makes the files byte-reproducible."""
    raw = path.read_bytes()
    n = int.from_bytes(raw[:8], "little")
    header = json.loads(raw[8:8 + n])
    data = raw[8 + n:]
    text = json.dumps(header, sort_keys=True, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    path.write_bytes(len(text).to_bytes(8, "little") + text + data)
    with safetensors.safe_open(str(path), "np") as f:  # still valid
        assert sorted(f.keys()) == sorted(k for k in header if k != "__metadata__")


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def gguf_to_hf_name(gname: str) -> str | None:
    fixed = {"token_embd.weight": "model.embed_tokens.weight", "output_norm.weight": "model.norm.weight",
             "output.weight": "lm_head.weight"}
    if gname in fixed:
        return fixed[gname]
    parts = gname.split(".")
    assert parts[0] == "blk", gname
    l, what = parts[1], ".".join(parts[2:])
    table = {
        "attn_norm.weight": "input_layernorm.weight",
        "ffn_norm.weight": "post_attention_layernorm.weight",
        "attn_q.weight": "self_attn.q_proj.weight", "attn_k.weight": "self_attn.k_proj.weight",
        "attn_v.weight": "self_attn.v_proj.weight", "attn_output.weight": "self_attn.o_proj.weight",
        "ffn_gate.weight": "mlp.gate_proj.weight", "ffn_up.weight": "mlp.up_proj.weight",
        "ffn_down.weight": "mlp.down_proj.weight",
    }
    return f"model.layers.{l}.{table[what]}"


def unpermute_qk(w: np.ndarray, n_head: int) -> np.ndarray:
    """Inverse of llama.cpp's convert_hf_to_gguf permute. w: row-major [out, in] = GGUF ne (in, out).

    HF row  h*hd + j*(hd/2) + i  ==  GGUF row  h*hd + 2*i + j      (i < hd/2, j in {0, 1})
    """
    out = w.shape[0]
    hd = out // n_head
    return w.reshape(n_head, hd // 2, 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


def permute_qk(w: np.ndarray, n_head: int) -> np.ndarray:
    """llama.cpp's forward permute (HF -> GGUF), for the negative check."""
    hd = w.shape[0] // n_head
    return w.reshape(n_head, 2, hd // 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


def check_gguf_and_dump(model, gguf_path: Path) -> dict:
    from gguf import GGUFReader, dequantize

    cfg = model.config
    sd = {k: v.detach().numpy() for k, v in model.state_dict().items()}
    reader = GGUFReader(str(gguf_path))
    seen = set()
    entries = []
    qk = {}
    for t in reader.tensors:
        hf = gguf_to_hf_name(t.name)
        raw = dequantize(t.data, t.tensor_type)  # row-major, shape = reversed(ne)
        ne = [int(x) for x in t.shape]
        assert list(raw.shape) == ne[::-1], (t.name, raw.shape, ne)
        w = raw
        permuted = False
        if ".attn_q." in t.name or ".attn_k." in t.name:
            n = cfg.num_attention_heads if ".attn_q." in t.name else cfg.num_key_value_heads
            w = unpermute_qk(raw, n)
            permuted = True
            assert not np.array_equal(raw, sd[hf]), f"{t.name}: raw GGUF rows already equal HF rows"
            assert not np.array_equal(permute_qk(raw, n), sd[hf]), f"{t.name}: forward permute also matches"
            assert np.array_equal(permute_qk(w, n), raw)
            if t.name.startswith("blk.0."):
                qk[t.name] = dict(n_head=n, head_dim=raw.shape[0] // n)
        assert hf in sd, (t.name, hf)
        assert sd[hf].dtype == np.float32 and sd[hf].shape == w.shape, (hf, sd[hf].shape, w.shape)
        assert np.array_equal(sd[hf], w), f"{t.name} -> {hf}: values differ"
        seen.add(hf)
        flat = w.reshape(-1)
        e = {
            "hf_name": hf, "gguf_name": t.name, "ggml_type": t.tensor_type.name, "gguf_ne": ne,
            "hf_shape": list(w.shape), "qk_unpermuted": permuted,
            "first8": [float(x) for x in flat[:8]],
            "sum": float(w.astype(np.float64).sum()),
            "abs_sum": float(np.abs(w.astype(np.float64)).sum()),
        }
        if w.ndim == 2:
            e["row1_first8"] = [float(x) for x in w[1, :8]]
            e["last_row_last8"] = [float(x) for x in w[-1, -8:]]
            rows = w.astype(np.float64).sum(1)
            e["row_index_weighted_sum"] = float((np.arange(w.shape[0], dtype=np.float64) * rows).sum())
        if permuted:
            e["gguf_raw_row1_first8"] = [float(x) for x in raw[1, :8]]
        entries.append(e)
    # Parameters not in the GGUF: lm_head tied to the embedding.
    missing = sorted(set(sd) - seen)
    assert missing == ["lm_head.weight"] and cfg.tie_word_embeddings, missing
    assert np.array_equal(sd["lm_head.weight"], sd["model.embed_tokens.weight"])
    dump = {
        "gguf_file": GGUF_NAME, "gguf_sha256": GGUF_SHA256,
        "note": ("Values are float32 as transformers holds them after dequantization (gguf-py dequantize: "
                 "Q4_1 = d*q + m, Q8_0 = q*d, d and m fp16 widened to f32). 2-D tensors are row-major "
                 "[out, in] (GGUF ne = (in, out)). attn_q/attn_k rows are un-permuted: "
                 "hf = gguf.reshape(n_head, head_dim//2, 2, in).swapaxes(1, 2).reshape(out, in), with "
                 "n_head = num_attention_heads for Q and num_key_value_heads for K. "
                 "sum/abs_sum are float64 sums of the float32 values; row_index_weighted_sum = "
                 "sum_r r * sum_c W[r, c] (float64), which detects row permutations."),
        "tied_lm_head": "lm_head.weight is not in the GGUF (no output.weight); it is model.embed_tokens.weight",
        "qk_blk0": qk,
        "tensors": entries,
    }
    # One tensor per line keeps the file small and diffable.
    head = json.dumps({k: v for k, v in dump.items() if k != "tensors"}, indent=1)[:-2]
    body = ",\n".join(json.dumps(e, separators=(",", ":")) for e in entries)
    (REF_OUT / f"{SMOL}.tensors.json").write_text(f'{head},\n "tensors": [\n{body}\n ]\n}}\n')
    assert json.loads((REF_OUT / f"{SMOL}.tensors.json").read_text()) == json.loads(json.dumps(dump))
    return {"n_tensors": len(entries), "ggml_types": sorted({e["ggml_type"] for e in entries})}


def smollm2():
    gguf_path = GGUF_DIR / GGUF_NAME
    if not gguf_path.exists():
        sys.exit(f"{gguf_path} missing: run scripts/setup-model")
    digest = sha256(gguf_path.resolve())
    assert digest == GGUF_SHA256, f"{gguf_path}: sha256 {digest}, expected {GGUF_SHA256}"
    model = AutoModelForCausalLM.from_pretrained(GGUF_DIR, gguf_file=GGUF_NAME, dtype=torch.float32,
                                                 attn_implementation="eager").eval()
    tok = AutoTokenizer.from_pretrained(GGUF_DIR, gguf_file=GGUF_NAME)
    assert model.config._attn_implementation == "eager"
    gg = check_gguf_and_dump(model, gguf_path)
    pre = json.loads(tok.backend_tokenizer.to_str())
    meta = make_reference(
        SMOL, model, tok, prompts=PROMPTS, full_hooks={0}, z_prompts={0, 1}, attn_prompts={0},
        attn_layers=[0, model.config.num_hidden_layers - 1], all_logits=False,
        extra_greedy_prompts=[SMOL_CHAT_PROMPT],
        extra_meta={"source": f"models/{GGUF_NAME}", "gguf_file": GGUF_NAME, "gguf_sha256": digest,
                    "gguf_tensors": gg,
                    "hf_tokenizer_from_gguf": {k: pre.get(k) for k in
                                               ("normalizer", "pre_tokenizer", "post_processor", "decoder")}})
    return meta


# ----------------------------------------------------------------------------------------------------------

def selected_models() -> set[str] | None:
    """The models named with `--only NAME` (repeatable; the tiny models' names and SmolLM2-135M-Instruct.Q4_1),
    or None for all of them."""

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", action="append", metavar="NAME",
                        help="make only this model's fixtures (repeatable), e.g. --only tiny-mistral")
    names = parser.parse_args().only
    known = [spec["name"] for spec in tiny_specs()] + [SMOL]
    for name in names or []:
        if name not in known:
            parser.error(f"unknown model {name} (known: {', '.join(known)})")
    return set(names) if names else None


def main():
    only = selected_models()
    check_versions()
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    summary = {}
    for spec in tiny_specs():
        if only is not None and spec["name"] not in only:
            continue
        folder = build_tiny(spec)
        tok = check_folder_loads(folder)
        model = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32, attn_implementation="eager").eval()
        L = model.config.num_hidden_layers
        rp = getattr(model.config, "rope_parameters", None) or {}
        if rp.get("rope_type") == "llama3":  # the scaling must matter at this head_dim / original context
            hd = head_dim(model)
            plain = 1.0 / (rp["rope_theta"] ** (torch.arange(0, hd, 2, dtype=torch.float) / hd))
            scaled = model.model.rotary_emb.inv_freq
            same = torch.isclose(scaled, plain, rtol=1e-6, atol=0)
            div8 = torch.isclose(scaled, plain / rp["factor"], rtol=1e-6, atol=0)
            assert same.any() and div8.any() and (~same & ~div8).any(), (plain, scaled)
        meta = make_reference(spec["name"], model, tok, prompts=PROMPTS, full_hooks={0, 1, 2}, z_prompts={0, 1, 2},
                              attn_prompts={0}, attn_layers=list(range(L)), all_logits=True,
                              extra_meta={"source": f"Tests/Fixtures/models/{spec['name']} (seeded random init, "
                                                    f"seed {spec['seed']}, stds {INIT_STD})",
                                          "init": {"seed": spec["seed"], **INIT_STD},
                                          "config_json": json.loads((folder / "config.json").read_text())})
        summary[spec["name"]] = meta
    if only is None or SMOL in only:
        summary[SMOL] = smollm2()

    for name, meta in summary.items():
        print(f"{name}: vocab {meta['config']['vocab_size']} heads {meta['config']['num_attention_heads']}/"
              f"{meta['config']['num_key_value_heads']} hd {meta['config']['head_dim']} bos_added "
              f"{meta['tokenizer']['adds_bos']}")
        for p in meta["prompts"]:
            g = p.get("greedy")
            print(f"  {p['key']} T={p['n_tokens']} margin={p['top1_top2_margin']:.3f}"
                  + (f" greedy n={g['n_new']} eos={g['stopped_at_eos']} minmargin={g['min_top1_top2_margin']:.4f}"
                     f" {g['text']!r}" if g else ""))
        print("  checks:", {k: {kk: f"{vv:.1e}" for kk, vv in v.items()} for k, v in meta["checks"].items()})
    for d in (MODELS_OUT, REF_OUT):
        for f in sorted(d.rglob("*")):
            if f.is_file():
                print(f"{f.relative_to(ROOT)}  {f.stat().st_size}")


if __name__ == "__main__":
    main()
