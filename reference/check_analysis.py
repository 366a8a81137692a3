#!/usr/bin/env python3
"""Compares an `icl-analyze report` folder with the numpy reference (analyze_reference.py) on the same dump.

Runs the reference on DUMP (or the shards of one capture) with the options given here, which must
be those the report was made with (--subspace, --top, --heads-json), then matches rows: heads.csv
by (set, layer, head), ablation.csv by (set, head_set, mode), the unablated baseline by (set, mode
"none"). Every numeric column the reference writes must be in the report; each is compared as

    rel = |report - reference| / max(|reference|, floor, magnitude)
    floor = 1e-3 * max |reference| over the column
    magnitude = for the signed per-prompt means, the mean over prompts of the size of the terms
                each prompt's value is rounded relative to, as per prompt below (tl_score over its
                defined prompts: a TR small against |a_h| magnifies the rounding of Q^T a_h);
                for the ablation metrics the mean over prompts of |summand|; elsewhere 0

so that entries near zero (a head's DLA, a mass of 0) are judged on the column's scale rather than
their own, and a mean of per-prompt values that cancel (a TL score of 0.001 averaged from values of
+-0.8) on the scale of its summands, which is what its rounding error is proportional to.
Integer columns (counts) must match exactly; NaN (an empty cell) matches only NaN.
Top sets are compared as sets of heads; a difference is accepted only where the heads swapped in
and out have reference scores equal to the boundary score within --rtol (a tie), and then that
head set's ablation rows are not compared. The further head sets the report ablated (its random
sets, top induction set and head-set files, listed in DIR/summary.json) are ablated by the
reference too, and the rows of the same head_set name compared. When the report was written with
--per-prompt (summary.json's perPrompt), every row of its per_prompt/ files is matched by (set,
prompt_index, layer, head) with the reference's per-prompt values and compared by the same rule,
with magnitude the size of the terms whose float32 rounding the value carries: |a_h| for tr,
|a_h| max_y |v_y| / TR for tl, s |a_h| max_y |u_y| for dla_gold and dla_margin (u_y = gamma * w_y,
centred for a LayerNorm; a dot product
is rounded relative to its operands' norms, not to its result), 0 for the attention masses; every
done prompt of every set must be there once.
Prints the largest difference per column; exit status 1, naming the first column over tolerance,
when one is.

usage: check_analysis.py DUMP [DUMP ...] --swift-report DIR [--rtol 1e-5] [--subspace raw|folded|centred]
                         [--top 0.03] [--heads-json FILE ...] [--chunk 64]
"""
import argparse
import csv
import json
import math
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import analyze_reference as reference  # noqa: E402

HEADS_KEY = ("set", "layer", "head")
ABLATION_KEY = ("set", "head_set", "mode")
TEXT_COLUMNS = {"set", "task", "variant", "head_set", "kind", "mode", "position"}
INTEGER_COLUMNS = {"layer", "head", "shots", "tl_undefined_prompts", "top_tr", "top_tl", "size", "prompts"}
TOP_SETS = ("top_tr", "top_tl")
TOP_SCORES = {"top_tr": "tr_score", "top_tl": "tl_score"}
# Floor of the relative difference: this fraction of the column's largest reference magnitude.
FLOOR_FRACTION = 1e-3


class Mismatch(Exception):
    pass


def read_csv(path):
    try:
        with open(path, newline="") as f:
            reader = csv.DictReader(f)
            rows = list(reader)
            return reader.fieldnames or [], rows
    except OSError as error:
        raise reference.InputError(path, f"cannot read ({error.strerror})")


def number(text):
    text = str(text).strip()
    if text == "" or text.lower() == "nan":
        return math.nan
    return float(text)


def reference_value(value):
    return math.nan if isinstance(value, float) and math.isnan(value) else float(value)


def per_prompt_files(report_dir):
    """The per_prompt/ files summary.json lists, or None when the report was written without them."""
    path = os.path.join(report_dir, "summary.json")
    try:
        with open(path) as f:
            entry = json.load(f).get("perPrompt") or {}
    except (OSError, ValueError) as error:
        raise reference.InputError(path, f"cannot read as JSON ({error})")
    if not entry.get("written"):
        return None
    return [os.path.join(report_dir, name) for name in entry.get("files", [])]


def extra_head_sets(report_dir):
    """Head sets the report ablated besides the top sets, from its summary.json:
    {set: [(name, [(layer, head), ...])]}: each set's random sets, and each dump's top induction
    set and head-set files (ablated in every set)."""
    path = os.path.join(report_dir, "summary.json")
    if not os.path.exists(path):
        return {}
    try:
        with open(path) as f:
            dumps = json.load(f).get("dumps", [])
    except (OSError, ValueError) as error:
        raise reference.InputError(path, f"not JSON ({error})")

    def heads_of(value):
        if isinstance(value, list) and value and all(
                isinstance(lh, list) and len(lh) == 2 and all(isinstance(x, int) for x in lh) for lh in value):
            return [tuple(lh) for lh in value]
        return None

    extra = {}
    for dump in dumps if isinstance(dumps, list) else []:
        shared = []
        if heads_of(dump.get("topInduction")):
            shared.append(("top_induction", heads_of(dump["topInduction"])))
        for name, heads in (dump.get("headSetFiles") or {}).items():
            if heads_of(heads):
                shared.append((name, heads_of(heads)))
        for set_name, entry in (dump.get("sets") or {}).items():
            extra.setdefault(set_name, []).extend(shared)
            for name, heads in (entry.get("randomSets") or {}).items():
                if heads_of(heads):
                    extra[set_name].append((name, heads_of(heads)))
    return extra


class ColumnDifferences:
    """Largest relative difference of each column and where it occurred."""

    def __init__(self, table):
        self.table = table
        self.largest = {}
        self.order = []

    def compare(self, column, pairs, exact):
        """pairs: [(where, reference value, report value, magnitude of the reference's summands)]."""
        self.order.append(column)
        finite = [abs(r) for _, r, _, _ in pairs if not math.isnan(r)]
        floor = FLOOR_FRACTION * max(finite) if finite else 0.0
        worst = (0.0, None, None, None)
        for where, r, s, magnitude in pairs:
            if math.isnan(r) and math.isnan(s):
                continue
            if math.isnan(r) or math.isnan(s):
                difference = math.inf
            elif exact:
                difference = 0.0 if r == s else math.inf
            else:
                denominator = max(abs(r), floor, magnitude)
                difference = abs(s - r) / denominator if denominator > 0 else (0.0 if s == r else math.inf)
            if difference > worst[0] or worst[1] is None:
                worst = (difference, where, r, s)
        self.largest[column] = (worst, floor, exact)

    def print(self, out):
        print(f"{self.table}: {'column':24} {'max rel diff':>12}  {'floor':>9}  where (reference, report)", file=out)
        for column in self.order:
            (difference, where, r, s), floor, exact = self.largest[column]
            floor_text = "exact" if exact else f"{floor:.2e}"
            where_text = f"{where} ({r!r}, {s!r})" if where is not None else "empty in both"
            print(f"{self.table}: {column:24} {difference:12.3e}  {floor_text:>9}  {where_text}", file=out)

    def first_over(self, rtol):
        for column in self.order:
            (difference, where, r, s), _, _ = self.largest[column]
            if difference > rtol:
                return column, difference, where, r, s
        return None


def compare_heads(ref_rows, report_rows, report_columns, rtol, out, reference_columns=reference.HEADS_COLUMNS):
    index = {}
    for row in report_rows:
        index[(row["set"], int(number(row["layer"])), int(number(row["head"])))] = row
    missing = [k for k in ((r["set"], r["layer"], r["head"]) for r in ref_rows) if k not in index]
    if missing:
        raise Mismatch(f"heads.csv: {len(missing)} reference rows missing from the report, e.g. {missing[0]}")
    columns = [c for c in reference_columns if c not in TEXT_COLUMNS and c not in HEADS_KEY and c not in TOP_SETS]
    absent = [c for c in columns + list(TOP_SETS) if c not in report_columns]
    if absent:
        raise Mismatch(f"heads.csv: the report has no column {absent[0]}")
    differences = ColumnDifferences("heads.csv")
    for column in columns:
        pairs = [(f"{r['set']} layer {r['layer']} head {r['head']}", reference_value(r[column]),
                  number(index[(r["set"], r["layer"], r["head"])][column]), r["magnitude"].get(column, 0.0))
                 for r in ref_rows]
        differences.compare(column, pairs, column in INTEGER_COLUMNS)
    differences.print(out)

    skipped = set()
    for set_name in sorted({r["set"] for r in ref_rows}):
        rows = [r for r in ref_rows if r["set"] == set_name]
        for top in TOP_SETS:
            mine = {(r["layer"], r["head"]) for r in rows if r[top] == 1}
            theirs = {(r["layer"], r["head"]) for r in rows
                      if int(number(index[(set_name, r["layer"], r["head"])][top])) == 1}
            if mine == theirs:
                print(f"top sets: {set_name} {top}: identical ({len(mine)} heads)", file=out)
                continue
            score = {(r["layer"], r["head"]): r[TOP_SCORES[top]] for r in rows}
            boundary = min(score[lh] for lh in mine)
            swapped = mine ^ theirs
            tied = all(abs(score[lh] - boundary) <= rtol * max(abs(boundary), 1e-300) for lh in swapped)
            detail = f"reference only {sorted(mine - theirs)}, report only {sorted(theirs - mine)}"
            if not tied:
                raise Mismatch(f"top sets: {set_name} {top} differ ({detail})")
            print(f"top sets: {set_name} {top}: tie at the boundary score {boundary!r} ({detail}); "
                  "its ablation rows are not compared", file=out)
            skipped.add((set_name, top))
    return differences, skipped


def compare_ablation(ref_rows, report_rows, report_columns, skipped, out, reference_columns=reference.ABLATION_COLUMNS):
    index = {}
    for row in report_rows:
        key = (row["set"], "baseline", "none") if row["mode"] == "none" else tuple(row[k] for k in ABLATION_KEY)
        index[key] = row
    compared = [r for r in ref_rows if (r["set"], r["head_set"]) not in skipped]
    missing = [tuple(r[k] for k in ABLATION_KEY) for r in compared if tuple(r[k] for k in ABLATION_KEY) not in index]
    if missing:
        raise Mismatch(f"ablation.csv: {len(missing)} reference rows missing from the report, e.g. {missing[0]}")
    columns = [c for c in reference_columns if c not in TEXT_COLUMNS]
    absent = [c for c in columns if c not in report_columns]
    if absent:
        raise Mismatch(f"ablation.csv: the report has no column {absent[0]}")
    differences = ColumnDifferences("ablation.csv")
    for column in columns:
        pairs = [(f"{r['set']} {r['head_set']} {r['mode']}", reference_value(r[column]),
                  number(index[tuple(r[k] for k in ABLATION_KEY)][column]), r["magnitude"].get(column, 0.0))
                 for r in compared]
        differences.compare(column, pairs, column in INTEGER_COLUMNS)
    differences.print(out)
    return differences


def compare_per_prompt(reference_values, files, out):
    """reference_values: {set: {"prompt_index": [P], column: [P, layer, head]}}; files: the report's per_prompt/ CSVs."""
    index = {}
    for path in files:
        columns, rows = read_csv(path)
        absent = [c for c in ("set", "prompt_index", "layer", "head") + reference.PER_PROMPT_COLUMNS if c not in columns]
        if absent:
            raise Mismatch(f"{path}: no column {absent[0]}")
        for row in rows:
            key = (row["set"], int(row["prompt_index"]), int(row["layer"]), int(row["head"]))
            if key in index:
                raise Mismatch(f"{path}: {key} appears twice")
            index[key] = row
    pairs = {column: [] for column in reference.PER_PROMPT_COLUMNS}
    expected = 0
    for set_name, values in sorted(reference_values.items()):
        prompts, layers, heads = values["tr"].shape
        expected += prompts * layers * heads
        for p, prompt_index in enumerate(values["prompt_index"].tolist()):
            for l in range(layers):
                for h in range(heads):
                    row = index.get((set_name, prompt_index, l, h))
                    if row is None:
                        raise Mismatch(f"per_prompt: no row for set {set_name} prompt_index {prompt_index} "
                                       f"layer {l} head {h}")
                    for column in reference.PER_PROMPT_COLUMNS:
                        magnitude = values["magnitude"][column][p, l, h] if column in values["magnitude"] else 0.0
                        pairs[column].append((f"{set_name} prompt {prompt_index} layer {l} head {h}",
                                              float(values[column][p, l, h]), number(row[column]), float(magnitude)))
    if len(index) != expected:
        raise Mismatch(f"per_prompt: {len(index)} rows in the report, {expected} done prompts x heads in the dump")
    differences = ColumnDifferences("per_prompt")
    for column in reference.PER_PROMPT_COLUMNS:
        differences.compare(column, pairs[column], False)
    differences.print(out)
    print(f"per_prompt: {len(index)} rows in {len(files)} files, every done prompt x head once", file=out)
    return differences


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("dumps", nargs="+", metavar="DUMP")
    parser.add_argument("--swift-report", required=True, metavar="DIR", help="folder written by icl-analyze report")
    parser.add_argument("--rtol", type=float, default=1e-5, help="largest accepted relative difference")
    parser.add_argument("--subspace", choices=reference.SUBSPACES, default="raw")
    parser.add_argument("--top", type=float, default=0.03)
    parser.add_argument("--heads-json", nargs="*", default=[], metavar="FILE")
    parser.add_argument("--chunk", type=int, default=64)
    args = parser.parse_args(argv)
    out = sys.stdout
    try:
        heads_columns, heads_rows = read_csv(os.path.join(args.swift_report, "heads.csv"))
        ablation_columns, ablation_rows = read_csv(os.path.join(args.swift_report, "ablation.csv"))
        extra = extra_head_sets(args.swift_report)
        prompt_files = per_prompt_files(args.swift_report)
        result = reference.analyze(args.dumps, args.subspace, args.top, args.heads_json, args.chunk,
                                   extra_head_sets=extra, per_prompt=prompt_files is not None)
    except reference.InputError as error:
        print(f"check_analysis: {error}", file=sys.stderr)
        return 1
    print(f"reference: {result.sets} sets, {result.prompts} prompts, {result.seconds:.2f} s; "
          f"comparing with {args.swift_report} at rtol {args.rtol:g}", file=out)
    try:
        heads, skipped = compare_heads(result.heads_rows, heads_rows, heads_columns, args.rtol, out, result.heads_columns)
        ablation = compare_ablation(result.ablation_rows, ablation_rows, ablation_columns, skipped, out,
                                    result.ablation_columns)
        tables = [heads, ablation]
        if prompt_files is None:
            print("per_prompt: not in the report (written without --per-prompt)", file=out)
        else:
            tables.append(compare_per_prompt(result.per_prompt, prompt_files, out))
    except Mismatch as mismatch:
        print(f"FAIL: {mismatch}", file=out)
        return 1
    except reference.InputError as error:
        print(f"check_analysis: {error}", file=sys.stderr)
        return 1
    for table in tables:
        over = table.first_over(args.rtol)
        if over:
            column, difference, where, r, s = over
            print(f"FAIL: {table.table} column {column}: relative difference {difference:.3e} > {args.rtol:g} "
                  f"at {where} (reference {r!r}, report {s!r})", file=out)
            return 1
    print(f"OK: every shared column within rtol {args.rtol:g}", file=out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
