"""Engine prefill against transformers, interleaved: for each round, length and thread count it
runs EngineBenchmark --forward-only (a fresh process) and then times transformers (loaded once,
fp32, its default attention, logits_to_keep=1, torch.inference_mode) on the same token ids, so
that load from other processes on a shared machine hits both alike. Prints a Markdown table of
the medians over rounds of each run's median, the speed ratio of those medians, the range of the
per-round ratios, and the load average before and after. Needs the reference venv.

usage: python benchmarks/interleaved_prefill.py --engine BIN [--model PATH] [--lengths 256,1024]
           [--threads 1,2] [--rounds 3] [--repeats 5]
example: .venv-reference/bin/python benchmarks/interleaved_prefill.py \\
           --engine .build/release/EngineBenchmark --lengths 256,1024 --rounds 3
"""
import argparse
import json
import os
import statistics
import subprocess
import tempfile
import time

import torch
from transformers import AutoModelForCausalLM


def load_average():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def engine_run(binary, model, length, threads, repeats):
    """(seconds, token ids) of one EngineBenchmark process: its median forward time."""
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "engine.json")
        subprocess.run([binary, "--model", model, "--lengths", str(length), "--threads", str(threads),
                        "--repeats", str(repeats), "--forward-only", "--out", out],
                       check=True, stdout=subprocess.DEVNULL)
        result = json.load(open(out))
    return result["rows"][0]["forwardSeconds"], result["tokenIDs"][str(length)]


def transformers_run(model, ids, threads, repeats):
    torch.set_num_threads(threads)
    inputs = torch.tensor([ids])
    with torch.inference_mode():
        model(inputs, logits_to_keep=1)
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            model(inputs, logits_to_keep=1)
            times.append(time.perf_counter() - start)
    return statistics.median(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--engine", required=True, help="the EngineBenchmark binary")
    parser.add_argument("--model", default="models/SmolLM2-135M-Instruct.Q4_1.gguf")
    parser.add_argument("--lengths", default="256,1024")
    parser.add_argument("--threads", default="1,2")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    lengths = [int(x) for x in args.lengths.split(",")]
    thread_counts = [int(x) for x in args.threads.split(",")]

    if args.model.endswith(".gguf"):
        model = AutoModelForCausalLM.from_pretrained(os.path.dirname(args.model) or ".",
                                                     gguf_file=os.path.basename(args.model), dtype=torch.float32)
    else:
        model = AutoModelForCausalLM.from_pretrained(args.model, dtype=torch.float32)
    model.eval()

    load_before = load_average()
    runs = {(t, n): {"engine": [], "transformers": []} for t in lengths for n in thread_counts}
    for r in range(args.rounds):
        for length in lengths:
            for threads in thread_counts:
                seconds, ids = engine_run(args.engine, args.model, length, threads, args.repeats)
                theirs = transformers_run(model, ids, threads, args.repeats)
                runs[(length, threads)]["engine"].append(seconds)
                runs[(length, threads)]["transformers"].append(theirs)
                print(f"round {r + 1} T={length} threads={threads}: engine {seconds:.4f} s, "
                      f"transformers {theirs:.4f} s, ratio {theirs / seconds:.2f}x", flush=True)

    print()
    print(f"model {args.model}; {args.rounds} rounds of {args.repeats} runs each, interleaved; torch "
          f"{torch.__version__}, attention={model.config._attn_implementation}; load average "
          f"{load_before} before, {load_average()} after")
    print("| tokens | threads | engine s | transformers s | speed ratio | per-round ratios |")
    print("|---:|---:|---:|---:|---:|---|")
    for (length, threads), times in runs.items():
        ours, theirs = statistics.median(times["engine"]), statistics.median(times["transformers"])
        ratios = ", ".join(f"{t / e:.2f}" for e, t in zip(times["engine"], times["transformers"]))
        print(f"| {length} | {threads} | {ours:.4f} | {theirs:.4f} | {theirs / ours:.2f}x | {ratios} |")


if __name__ == "__main__":
    main()
