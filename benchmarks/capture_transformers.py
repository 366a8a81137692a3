"""The peer of `icl-capture run` for the capture benchmark: transformers (fp32, CPU) with forward
hooks and h5py, capturing the same tensors for the same token ids (read from an icl-capture
dump): z of every head at the answer position (input of o_proj), resid_pre of every layer and
resid_final, the final-norm scale, label logits, gold log-probability, top-k, and the answer
position's attention row (eager attention, needed for attention weights). Prompts are run one at
a time (padding-free, like icl-capture's packed batches), written row by row with h5py.

It also compares its values with the dump's, so the benchmark doubles as a check of the dump.

usage: python benchmarks/capture_transformers.py DUMP.h5 OUT.h5 THREADS
prints one JSON line: {"seconds": ..., "load_seconds": ..., "prompts": ..., "tokens": ..., "max_z_diff": ...}
"""
import json
import os
import sys
import time

import h5py
import numpy as np
import torch
from transformers import AutoModelForCausalLM


def main():
    dump_path, out_path, threads = sys.argv[1], sys.argv[2], int(sys.argv[3])
    torch.set_num_threads(threads)
    start = time.perf_counter()
    dump = h5py.File(dump_path, "r")
    model_path = dump.attrs["model_path"]
    if model_path.endswith(".gguf"):
        model = AutoModelForCausalLM.from_pretrained(os.path.dirname(model_path) or ".", gguf_file=os.path.basename(model_path),
                                                     dtype=torch.float32, attn_implementation="eager")
    else:
        model = AutoModelForCausalLM.from_pretrained(model_path, dtype=torch.float32, attn_implementation="eager")
    model.eval()
    layers = model.model.layers
    n_layers, n_heads = len(layers), model.config.num_attention_heads
    head_dim = getattr(model.config, "head_dim", None) or model.config.hidden_size // n_heads
    d_model, eps = model.config.hidden_size, model.config.rms_norm_eps
    load_seconds = time.perf_counter() - start

    captured = {}
    hooks = []
    for l, layer in enumerate(layers):
        hooks.append(layer.self_attn.o_proj.register_forward_pre_hook(
            lambda module, args, l=l: captured.__setitem__(("z", l), args[0][0, -1].detach().clone())))
        hooks.append(layer.register_forward_pre_hook(
            lambda module, args, l=l: captured.__setitem__(("resid", l), args[0][0, -1].detach().clone())))
    hooks.append(model.model.norm.register_forward_pre_hook(
        lambda module, args: captured.__setitem__("resid_final", args[0][0, -1].detach().clone())))

    out = h5py.File(out_path, "w")
    prompts = tokens = 0
    max_z_diff = 0.0
    loop_start = time.perf_counter()
    for name, group in dump["sets"].items():
        count = group["token_count"][:]
        ids = group["token_ids"][:]
        labels = group["label_ids"][:]
        gold = group["gold_token"][:]
        n, t = ids.shape
        k = group["top_ids"].shape[1]
        g = out.create_group(name)
        z = g.create_dataset("z", (n, n_layers, n_heads, head_dim), "f4")
        resid = g.create_dataset("resid", (n, n_layers + 1, d_model), "f4")
        scale = g.create_dataset("final_norm_scale", (n,), "f4")
        label_logits = g.create_dataset("label_logits", (n, len(labels)), "f4")
        gold_logprob = g.create_dataset("gold_logprob", (n,), "f4")
        top_ids = g.create_dataset("top_ids", (n, k), "i4")
        attention = g.create_dataset("attention", (n, n_layers, n_heads, t), "f4")
        done = g.create_dataset("done", (n,), "u1")
        for p in range(n):
            input_ids = torch.tensor(ids[p, :count[p]][None, :].astype(np.int64))
            with torch.inference_mode():
                output = model(input_ids, output_attentions=True, logits_to_keep=1)
            logits = output.logits[0, -1]
            z_row = torch.stack([captured[("z", l)] for l in range(n_layers)]).view(n_layers, n_heads, head_dim).numpy()
            z[p] = z_row
            final = captured["resid_final"]
            resid[p] = torch.stack([captured[("resid", l)] for l in range(n_layers)] + [final]).numpy()
            scale[p] = float(torch.rsqrt(final.pow(2).mean() + eps))
            label_logits[p] = logits[torch.tensor(labels.astype(np.int64))].numpy()
            gold_logprob[p] = float(torch.log_softmax(logits, -1)[int(gold[p])])
            top_ids[p] = torch.topk(logits, k).indices.numpy()
            row = np.zeros((n_layers, n_heads, t), np.float32)
            row[:, :, :count[p]] = torch.stack([a[0, :, -1] for a in output.attentions]).numpy()
            attention[p] = row
            done[p] = 1
            if group["done"][p]:
                max_z_diff = max(max_z_diff, float(np.abs(group["z"][p, 0].astype(np.float32) - z_row).max()))
            prompts += 1
            tokens += int(count[p])
    out.close()
    print(json.dumps({"seconds": time.perf_counter() - loop_start, "load_seconds": load_seconds, "prompts": prompts,
                      "tokens": tokens, "max_z_diff": max_z_diff, "threads": threads, "torch": torch.__version__}))


if __name__ == "__main__":
    main()
