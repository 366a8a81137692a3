"""Prints the engine-versus-transformers table from the two benchmark result files.

usage: python benchmarks/compare.py ENGINE.json TRANSFORMERS.json
"""
import json
import sys

engine = json.load(open(sys.argv[1]))
reference = json.load(open(sys.argv[2]))
theirs = {(r["tokens"], r["threads"]): r for r in reference["rows"]}
print(f"model {engine['model']}; medians of {engine['repeats']} runs; transformers {reference.get('torch')} "
      f"attention={reference.get('attention')}")
print("| tokens | threads | engine tok/s | transformers tok/s | speed ratio | engine GFLOP/s | GEMM-only GFLOP/s | of GEMM rate |")
print("|---:|---:|---:|---:|---:|---:|---:|---:|")
for r in engine["rows"]:
    t = theirs.get((r["tokens"], r["threads"]))
    ratio = t and r["tokensPerSecond"] / t["tokensPerSecond"]
    print(f"| {r['tokens']} | {r['threads']} | {r['tokensPerSecond']:.0f} | "
          f"{t['tokensPerSecond']:.0f} | {ratio:.2f}x | " if t else f"| {r['tokens']} | {r['threads']} | {r['tokensPerSecond']:.0f} | - | - | ",
          end="")
    if r.get("gemmGFLOPPerSecond") is None:  # EngineBenchmark --forward-only
        print(f"{r['forwardGFLOPPerSecond']:.1f} | - | - |")
    else:
        print(f"{r['forwardGFLOPPerSecond']:.1f} | {r['gemmGFLOPPerSecond']:.1f} | {100 * r['efficiency']:.0f}% |")
mib = 1 << 20
print(f"peak RSS: engine {engine['peakRSSBytes'] / mib:.0f} MiB = {engine['peakRSSBytes'] / engine['fp32WeightBytes']:.2f}x "
      f"the fp32 weights ({engine['fp32WeightBytes'] / mib:.0f} MiB); transformers {reference['peakRSSBytes'] / mib:.0f} MiB")
if engine.get("backwardRows"):
    print()
    print("| tokens | threads | forward s | gradient pass s | backward / forward |")
    print("|---:|---:|---:|---:|---:|")
    for r in engine["backwardRows"]:
        print(f"| {r['tokens']} | {r['threads']} | {r['forwardSeconds']:.4f} | {r['gradientPassSeconds']:.4f} | "
              f"{r['backwardOverForward']:.2f}x |")
    print(f"peak RSS after the gradient passes: {engine['peakRSSWithGradientsBytes'] / mib:.0f} MiB")
