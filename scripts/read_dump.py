"""Reads an icl-capture dump the way a user would (h5py and xarray) and prints a summary:
per set, the accuracy over the full vocabulary and inside the label set, and where each
activation lives.

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
