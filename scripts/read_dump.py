"""Reads an icl-capture dump the way a user would (h5py and xarray) and prints a summary:
per set, the accuracy over the full vocabulary; for a classification set, the head that adds most
to the gold label's logit and the logit lens through the layers (format 1.1); the strongest
induction head; and where each activation lives.

usage: python scripts/read_dump.py DUMP.h5
"""
import sys

import h5py
import numpy as np
import xarray as xr

path = sys.argv[1]
with h5py.File(path, "r") as f:
    print(f"{path}: {f.attrs['format']} {f.attrs['format_version']}, model {f.attrs['model_name']} "
          f"(sha256 {f.attrs['model_sha256'][:12]}...), activations {f.attrs['activation_dtype']}")
    print(f"{'set':42} {'prompts':>7} {'top-1 = gold':>12} {'mean gold logprob':>18}")
    for name, g in f["sets"].items():
        done = g["done"][:] == 1
        correct = g["argmax"][:][done] == g["gold_token"][:][done]
        print(f"{name:42} {done.sum():7d} {correct.mean():12.2f} {g['gold_logprob'][:][done].mean():18.2f}")
    texts = f["model/token_text"].asstr()[()] if "token_text" in f["model"] else None   # [vocabulary]; format 1.1
    for name, g in f["sets"].items():
        if "head_label_logits" not in g or (g["gold"][:] < 0).all():
            continue
        # Each head's direct effect on the gold label's logit at the answer position (format 1.1).
        done, gold = g["done"][:] == 1, g["gold"][:]
        heads = g["head_label_logits"][:, 0]                                   # [prompt, layer, head, label]
        effect = heads[np.arange(len(gold)), :, :, gold][done].mean(axis=0)    # [layer, head]
        layer, head = np.unravel_index(np.argmax(effect), effect.shape)
        lens = g["resid_label_logits"][:, 0][np.arange(len(gold)), :, gold][done].mean(axis=0)  # [resid_layer]
        steps = np.unique(np.linspace(0, len(lens) - 1, 6).round().astype(int))
        answer = f"; prompt 0 answers {texts[g['argmax'][0]]!r}" if texts is not None else ""
        print(f"{name}: strongest direct head: layer {layer} head {head} (+{effect[layer, head]:.2f} on the gold logit); "
              f"gold logit lens at resid_layer " + ", ".join(f"{i}: {lens[i]:.1f}" for i in steps) + answer)
        break
    for name, g in f["probes"].items():
        pattern = g["attention_pattern"][:]  # [prompt, layer, head, query, key]
        r = g.attrs["repeat_length"]
        offset = int(g.attrs["bos"])
        # Olsson et al.: attention from the second repeat to the token after the previous occurrence.
        queries = np.arange(offset + r, offset + 2 * r)
        stripe = pattern[:, :, :, queries, queries - r + 1].mean(axis=(0, 3))
        layer, head = np.unravel_index(np.argmax(stripe), stripe.shape)
        print(f"{name}: {pattern.shape[0]} sequences; strongest induction stripe: layer {layer} head {head} "
              f"({stripe[layer, head]:.2f})")

first = next(iter(h5py.File(path, "r")["sets"].keys()))
ds = xr.open_dataset(path, engine="h5netcdf", group=f"sets/{first}")
print(f"\nxarray.open_dataset(path, engine='h5netcdf', group='sets/{first}'):")
print(f"  z {dict(ds['z'].sizes)}")
print(f"  resid {dict(ds['resid'].sizes)}")
if "head_label_logits" in ds:
    print(f"  head_label_logits {dict(ds['head_label_logits'].sizes)}")
