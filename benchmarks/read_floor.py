"""The reading floor of `icl-analyze report`: h5py reads of every dataset the report reads, in
the report's pattern and nothing else (no arithmetic), on as many processes as the report uses
threads. Per prompt set: the per-prompt rows (done, gold, label_logits, spans, ...), then
attention and, at the answer position, z and resid in chunks of 64 prompts (the score pass),
then z and resid again (the ablation pass; `--once` skips this second read); the induction
probe's attention_pattern and token_ids; /model.

usage: python benchmarks/read_floor.py DUMP [--processes 2] [--once]
example: .venv-test/bin/python benchmarks/read_floor.py out/bench-analyze-10g-f32.h5
"""
import argparse
import multiprocessing
import sys
import time

import h5py
import numpy as np

CHUNK = 64
SMALL = ("done", "prompt_index", "gold", "gold_token", "gold_logprob", "argmax", "label_ids", "label_logits",
         "final_norm_scale", "token_count", "special_mask", "demo_input_span", "demo_output_span", "query_span")


def read_all(dataset):
    out = np.empty(dataset.shape, dataset.dtype)
    if dataset.size:
        dataset.read_direct(out)
    return out


def read_set(path, name, twice):
    with h5py.File(path, "r") as f:
        group = f["sets"][name]
        for small in SMALL:
            if small in group:
                read_all(group[small])
        z, resid, attention = group["z"], group["resid"], group["attention"]
        rows = z.shape[0]
        z_out = np.empty((CHUNK,) + z.shape[2:], z.dtype)
        resid_out = np.empty((CHUNK,) + resid.shape[2:], resid.dtype)
        attention_out = np.empty((CHUNK,) + attention.shape[1:], attention.dtype)
        for passes in range(2 if twice else 1):
            for start in range(0, rows, CHUNK):
                n = min(CHUNK, rows - start)
                z.read_direct(z_out, np.s_[start:start + n, 0], np.s_[0:n])
                resid.read_direct(resid_out, np.s_[start:start + n, 0], np.s_[0:n])
                if passes == 0:
                    attention.read_direct(attention_out, np.s_[start:start + n], np.s_[0:n])
    return name


def read_rest(path):
    with h5py.File(path, "r") as f:
        for name in f["model"]:
            if isinstance(f["model"][name], h5py.Dataset) and f["model"][name].dtype.kind == "f":
                read_all(f["model"][name])
        for probe in f.get("probes", {}).values():
            read_all(probe["attention_pattern"])
            read_all(probe["token_ids"])


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("dump")
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--once", action="store_true", help="read z and resid once, not twice as the report does")
    args = parser.parse_args()
    with h5py.File(args.dump, "r") as f:
        sets = sorted(f["sets"])
    start = time.perf_counter()
    read_rest(args.dump)
    with multiprocessing.Pool(args.processes) as pool:
        pool.starmap(read_set, [(args.dump, name, not args.once) for name in sets])
    print(f"read {len(sets)} sets in {time.perf_counter() - start:.2f} s", file=sys.stderr)


if __name__ == "__main__":
    main()
