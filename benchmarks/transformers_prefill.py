"""Prefill speed of Hugging Face transformers (fp32, CPU) on the token ids the Swift engine
benchmark used, for the ratio table of benchmarks/run-engine. Needs the reference venv
(reference/setup-venv: torch, transformers, accelerate, gguf).

usage: python benchmarks/transformers_prefill.py ENGINE_RESULTS.json OUT.json
"""
import json
import os
import resource
import statistics
import sys
import time

import torch
from transformers import AutoModelForCausalLM


def main():
    engine = json.load(open(sys.argv[1]))
    model_path = engine["model"]
    if model_path.endswith(".gguf"):
        model = AutoModelForCausalLM.from_pretrained(
            os.path.dirname(model_path) or ".", gguf_file=os.path.basename(model_path), dtype=torch.float32)
    else:
        model = AutoModelForCausalLM.from_pretrained(model_path, dtype=torch.float32)
    model.eval()
    repeats = engine["repeats"]
    rows = []
    for row in engine["rows"]:
        ids = torch.tensor([engine["tokenIDs"][str(row["tokens"])]])
        torch.set_num_threads(row["threads"])
        with torch.inference_mode():
            model(ids, logits_to_keep=1)
            times = []
            for _ in range(repeats):
                start = time.perf_counter()
                model(ids, logits_to_keep=1)
                times.append(time.perf_counter() - start)
        seconds = statistics.median(times)
        rows.append({"tokens": row["tokens"], "threads": row["threads"], "forwardSeconds": seconds,
                     "tokensPerSecond": row["tokens"] / seconds})
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    result = {"torch": torch.__version__, "attention": model.config._attn_implementation,
              "peakRSSBytes": peak, "rows": rows}
    json.dump(result, open(sys.argv[2], "w"), indent=1)


if __name__ == "__main__":
    main()
