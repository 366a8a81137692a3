#!/usr/bin/env python3
"""Independent numpy + h5py reference of what `icl-analyze report` computes (docs/methods.md).

Reads an icl-heads dump, or the shards of one capture, and writes DIR/heads.csv (per set and head:
TR/TL scores §3, direct logit attribution §4, attention-category masses §6, induction and
previous-token scores §7, top-set membership §3.5) and DIR/ablation.csv (the answer-position
ablation estimates of §5 for the top TR and TL sets, any --heads-json sets, and the unablated
baseline). analyze(..., per_prompt=True) also keeps every prompt's TR, TL, DLA and attention
masses (§15), which check_analysis.py compares with a report's per_prompt/ files. A dump captured
with --grads also gets the attribution-patching estimates of §20: ablation.csv's
atp_delta_{M}_answer and atp_delta_{M}_all for every ablated head set, and heads.csv's cie_atp on
shuffled-labels sets (M = the dump's gradient_metric). Written from
docs/methods.md alone, as the independent peer of the Swift analyzer: every quantity is computed
in float64 from the stored z, W_O, residual stream, final-norm scale and unembedding rows. Prompts are read in chunks of --chunk with h5py slicing, so memory is
bounded by the chunk and the model's weights, not by the dump.

--self-test also checks the dump's invariants (§4.3: the components of every label logit sum to the
stored label_logits; §6: the five attention masses sum to 1), recomputes the stored
head_label_logits / resid_label_logits when the dump holds them, and cross-checks the vectorised
TR/TL and leave-one-out mean ablation against plain per-prompt formulas; exit status 1 when a
check fails.

usage: analyze_reference.py DUMP [DUMP ...] --out DIR [--subspace raw|folded|centred] [--top 0.03]
                            [--heads-json FILE ...] [--chunk 64] [--self-test]
"""
import argparse
import csv
import json
import math
import os
import sys
import time

# One BLAS thread unless the caller says otherwise: the per-head products are small (64 x 64 by
# 64 x 576 for SmolLM2) and threaded OpenBLAS ran them 9x slower on a busy 2-core machine.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import h5py  # noqa: E402
import numpy as np  # noqa: E402

SUBSPACES = ("raw", "folded", "centred")
ATTENTION_CATEGORIES = ("demo_outputs", "demo_inputs", "query", "template", "special")
TEMPLATE = ATTENTION_CATEGORIES.index("template")
HEADS_COLUMNS = ("set", "task", "variant", "shots", "layer", "head", "tr_score", "tl_score",
                 "tl_undefined_prompts", "dla_gold", "dla_margin",
                 *(f"attn_{c}" for c in ATTENTION_CATEGORIES),
                 "induction_stripe", "induction_mul", "prev_token", "top_tr", "top_tl")
# Per-prompt values of each head (report --per-prompt: per_prompt/SET.csv), [prompt, layer, head].
PER_PROMPT_COLUMNS = ("tr", "tl", "dla_gold", "dla_margin", *(f"attn_{c}" for c in ATTENTION_CATEGORIES))
ABLATION_COLUMNS = ("set", "head_set", "kind", "size", "mode", "position", "prompts", "gold_logit",
                    "gold_logprob_labels", "label_accuracy", "gold_logprob_vocab", "accuracy",
                    "label_set_ratio")
SET_DATASETS = ("prompt_index", "done", "z", "resid", "final_norm_scale", "label_ids", "label_logits", "gold",
                "gold_token", "argmax", "attention", "token_count", "special_mask", "demo_input_span",
                "demo_output_span", "query_span")
PROBE_DATASETS = ("prompt_index", "done", "token_ids", "attention_pattern")
# TL of a prompt is undefined when its TR is at most this fraction of ||a_h|| (§3.3).
TL_DEFINED_FRACTION = 1e-6
# Gram-Schmidt drops a direction whose remaining norm is below this fraction of the largest label vector (§3.1).
SPAN_DROP_FRACTION = 1e-6


class InputError(Exception):
    """Bad input: reported as one line naming the file and the problem."""

    def __init__(self, path, message):
        super().__init__(f"{path}: {message}")


# ---------------------------------------------------------------------------------------------
# Reading a capture (one dump or the shards of one capture)
# ---------------------------------------------------------------------------------------------

def _attr(obj, name, path):
    if name not in obj.attrs:
        raise InputError(path, f"{obj.name} has no attribute '{name}'")
    value = obj.attrs[name]
    return value.decode() if isinstance(value, bytes) else value


def _dataset(group, name, path):
    if name not in group:
        raise InputError(path, f"{group.name} has no dataset '{name}'")
    return group[name]


class Part:
    """The rows of one prompt set (or probe set) inside one file."""

    def __init__(self, path, group):
        self.path = path
        self.group = group
        done = _dataset(group, "done", path)[:]
        self.rows = np.flatnonzero(done == 1)                          # [done rows]
        self.prompt_index = _dataset(group, "prompt_index", path)[:][self.rows]
        self.row_count = done.shape[0]
        self.done = done == 1

    def chunks(self, size):
        """Yields (start, stop, keep): a slice of this file's rows and the done mask inside it."""
        for start in range(0, self.row_count, size):
            stop = min(start + size, self.row_count)
            keep = self.done[start:stop]
            if keep.any():
                yield start, stop, keep


def _merge_parts(parts, what):
    """Shards hold disjoint prompts: refuse a prompt_index that two files both hold."""
    seen = {}
    for part in parts:
        for index in part.prompt_index.tolist():
            if index in seen:
                raise InputError(part.path, f"{what}: prompt_index {index} is also in {seen[index]} "
                                 "(shards must be disjoint)")
            seen[index] = part.path
    return len(seen)


class PromptSet:
    """One prompt set across the capture's files, with its label space (§2)."""

    def __init__(self, name, parts, capture):
        self.name = name
        self.parts = parts
        for part in parts:
            for dataset in SET_DATASETS:
                _dataset(part.group, dataset, part.path)
            z_shape = part.group["z"].shape[2:]
            if z_shape != (capture.layers, capture.heads, capture.d_head):
                raise InputError(part.path, f"{part.group.name}/z has [layer, head, d_head] = {list(z_shape)}, "
                                 f"but /model/W_O has {[capture.layers, capture.heads, capture.d_head]}")
        first = parts[0]
        g = first.group
        self.task = str(_attr(g, "task", first.path))
        self.variant = str(_attr(g, "variant", first.path))
        self.shots = int(_attr(g, "shots", first.path))
        self.kind = str(_attr(g, "task_kind", first.path))
        if self.kind not in ("classification", "open"):
            raise InputError(first.path, f"{g.name}: task_kind '{self.kind}' is neither classification nor open")
        self.label_ids = _dataset(g, "label_ids", first.path)[:].astype(np.int64)  # [label]
        for part in parts[1:]:
            other = _dataset(part.group, "label_ids", part.path)[:]
            if not np.array_equal(other, self.label_ids):
                raise InputError(part.path, f"{g.name}: label_ids differ from {first.path}'s")
        self.n = _merge_parts(parts, g.name)
        # Y: distinct label tokens in order of first appearance.
        distinct = []
        for token in self.label_ids.tolist():
            if token not in distinct:
                distinct.append(token)
        self.labels = np.array(distinct, dtype=np.int64)               # [Y]
        self.label_position = {token: i for i, token in enumerate(distinct)}
        # label_ids column -> index in Y (duplicates map to their first occurrence).
        self.label_column_to_y = np.array([self.label_position[t] for t in self.label_ids.tolist()], dtype=np.int64)
        missing = [t for t in distinct if t not in capture.unembed_row]
        if missing:
            raise InputError(first.path, f"{g.name}: label tokens {missing} have no row in /model/unembed")
        self.unembed = capture.unembed[[capture.unembed_row[t] for t in distinct]]  # [Y, d_model]

    def gold_y(self, group, start, stop, keep, path):
        """Index in Y of each kept prompt's gold label: [p]."""
        if self.kind == "classification":
            gold = group["gold"][start:stop][keep]
            if (gold < 0).any() or (gold >= len(self.label_ids)).any():
                raise InputError(path, f"{group.name}: gold index outside label_ids")
            return self.label_column_to_y[gold]
        tokens = group["gold_token"][start:stop][keep].tolist()
        try:
            return np.array([self.label_position[t] for t in tokens], dtype=np.int64)
        except KeyError as missing:
            raise InputError(path, f"{group.name}: gold token {missing} of an open-answer prompt is not in label_ids")


class Capture:
    """The files of one capture: provenance checked, model weights loaded as float64."""

    def __init__(self, paths):
        self.paths = list(paths)
        self.files = []
        for path in self.paths:
            if not os.path.isfile(path):
                raise InputError(path, "no such file")
            try:
                self.files.append(h5py.File(path, "r"))
            except OSError as error:
                raise InputError(path, f"cannot open as HDF5 ({error})")
        first, first_path = self.files[0], self.paths[0]
        if _attr(first, "format", first_path) != "icl-heads-dump":
            raise InputError(first_path, "not an icl-heads dump (root attribute format)")
        shards = {}
        for f, path in zip(self.files, self.paths):
            if _attr(f, "format", path) != "icl-heads-dump":
                raise InputError(path, "not an icl-heads dump (root attribute format)")
            for key in ("model_sha256", "capture_config"):
                if _attr(f, key, path) != _attr(first, key, first_path):
                    raise InputError(path, f"root attribute {key} differs from {first_path}'s: not the same capture")
            shard = str(_attr(f, "shard", path))
            if shard in shards:
                raise InputError(path, f"shard {shard} is also {shards[shard]}")
            shards[shard] = path
        counts = {s.split("/")[-1] for s in shards}
        if len(counts) != 1:
            raise InputError(self.paths[-1], f"shards of different splits: {sorted(shards)}")
        self.activation_dtype = str(_attr(first, "activation_dtype", first_path))

        model = _dataset(first, "model", first_path)
        self.W_O = _dataset(model, "W_O", first_path)[:].astype(np.float64)       # [layer, head, d_head, d_model]
        self.layers, self.heads, self.d_head, self.d_model = self.W_O.shape
        self.b_O = model["b_O"][:].astype(np.float64) if "b_O" in model else None  # [layer, d_model]
        self.gamma = _dataset(model, "final_norm_weight", first_path)[:].astype(np.float64)  # [d_model]
        self.eps = float(_attr(model, "rms_norm_epsilon", first_path))
        # §23.2: a LayerNorm final norm centres (linear with s frozen) and adds beta . w_y, which no
        # component writes; dumps before 1.3 are RMSNorm.
        self.norm_kind = str(model.attrs.get("final_norm_kind", "rms"))
        if self.norm_kind not in ("rms", "layer"):
            raise InputError(first_path, f"/model final_norm_kind is {self.norm_kind!r}, expected rms or layer")
        self.beta = model["final_norm_bias"][:].astype(np.float64) if "final_norm_bias" in model \
            else np.zeros(self.d_model)                                           # [d_model]
        # §26: with a norm after attention head h writes s * g ⊙ (z_h W_O): g is folded into W_O here
        # and each z row scaled by its layer's stored s as it is read (scaled_z).
        self.attention_output_norm = str(model.attrs.get("attention_output_norm", "none"))
        if self.attention_output_norm not in ("none", "rms"):
            raise InputError(first_path, f"/model attention_output_norm is {self.attention_output_norm!r}, "
                             "expected none or rms")
        if self.attention_output_norm == "rms":
            gain = _dataset(model, "attention_output_norm_weight", first_path)[:].astype(np.float64)  # [layer, d_model]
            self.W_O = self.W_O * gain[:, None, None, :]
        self.vocabulary_size = int(_attr(model, "vocabulary_size", first_path))
        unembed_ids = _dataset(model, "unembed_ids", first_path)[:]                      # [row]
        for f, path in zip(self.files[1:], self.paths[1:]):
            if not np.array_equal(f["model/unembed_ids"][:], unembed_ids):
                raise InputError(path, f"/model/unembed_ids differ from {first_path}'s")
        # Rows in token order, so that with every row stored (--full-unembed) row t is token t.
        order = np.argsort(unembed_ids, kind="stable")
        self.unembed_ids = unembed_ids[order].astype(np.int64)
        self.unembed = _dataset(model, "unembed", first_path)[:][order].astype(np.float64)  # [row, d_model]
        self.unembed_row = {t: i for i, t in enumerate(self.unembed_ids.tolist())}
        self.full_unembed = np.array_equal(self.unembed_ids, np.arange(self.vocabulary_size))

        metrics = {str(f.attrs.get("gradient_metric", "")) for f in self.files}
        if len(metrics) != 1:
            raise InputError(self.paths[-1], f"files of one capture with different gradient_metric: {sorted(metrics)}")
        self.gradient_metric = metrics.pop()                                  # "" without --grads

        self.sets = self._collect("sets", PromptSet)
        self.probes = self._collect("probes", None)

    def _collect(self, kind, make):
        names = None
        for f, path in zip(self.files, self.paths):
            here = sorted(f[kind].keys()) if kind in f else []
            if names is None:
                names = here
            elif here != names:
                raise InputError(path, f"/{kind} holds {here}, but {self.paths[0]} holds {names}")
        collected = []
        for name in names:
            parts = [Part(path, f[kind][name]) for f, path in zip(self.files, self.paths)]
            if make is None:
                for part in parts:
                    for dataset in PROBE_DATASETS:
                        _dataset(part.group, dataset, part.path)
            collected.append(make(name, parts, self) if make else (name, parts))
        return collected

    def close(self):
        for f in self.files:
            f.close()


class ReadTimer:
    """Wall time spent inside h5py reads."""

    def __init__(self):
        self.seconds = 0.0

    def read(self, dataset, selection, dtype=np.float64):
        began = time.perf_counter()
        values = dataset[selection]
        self.seconds += time.perf_counter() - began
        return values.astype(dtype) if dtype is not None else values


# ---------------------------------------------------------------------------------------------
# Label subspace (§3.1)
# ---------------------------------------------------------------------------------------------

def folded_rows(capture, unembed):
    """What a component projects on (§4, §23.2): gamma ⊙ w_y, centred for a LayerNorm: [Y, d_model]."""
    folded = unembed * capture.gamma
    if capture.norm_kind == "layer":
        folded = folded - folded.mean(axis=1, keepdims=True)
    return folded


def label_vectors(unembed, capture, subspace):
    """v_y of §3.1: [Y, d_model]."""
    if subspace == "raw":
        return unembed.copy()
    if subspace == "folded":
        return folded_rows(capture, unembed)
    return unembed - unembed.mean(axis=0)


def scaled_z(capture, group, start, stop, keep, reader):
    """z at the answer position as the heads write it (§26): [p, layer, head, d_head]."""
    z = reader.read(group["z"], np.s_[start:stop, 0])[keep]
    if capture.attention_output_norm == "rms":
        scale = reader.read(group["attention_output_norm_scale"], np.s_[start:stop, 0])[keep]  # [p, layer]
        z = z * scale[:, :, None, None]
    return z


def final_norm(capture, r):
    """The final norm recomputed from residual streams r: [p, d_model] -> (normed [p, d_model], s [p])."""
    if capture.norm_kind == "layer":
        r = r - r.mean(axis=-1, keepdims=True)
    s = 1.0 / np.sqrt(np.mean(r ** 2, axis=-1) + capture.eps)
    return r * s[:, None] * capture.gamma + capture.beta, s


def orthonormal_basis(vectors):
    """Modified Gram-Schmidt (two passes) over v_y in label order: [d_model, k]."""
    largest = max(np.linalg.norm(vectors, axis=1).max(), np.finfo(np.float64).tiny)
    basis = []
    for v in vectors:
        r = v.copy()
        for _ in range(2):
            for q in basis:
                r -= (q @ r) * q
        norm = np.linalg.norm(r)
        if norm >= SPAN_DROP_FRACTION * largest:
            basis.append(r / norm)
    return np.array(basis).T.reshape(vectors.shape[1], len(basis))


def top_heads(score, fraction):
    """§3.5: k = max(1, floor(fraction * L * H)) heads by score descending, ties by (layer, head); heads
    whose score is NaN are never selected."""
    layers, heads = score.shape
    k = max(1, math.floor(fraction * layers * heads + 1e-9))
    order = sorted(((l, h) for l in range(layers) for h in range(heads) if not math.isnan(score[l, h])),
                   key=lambda lh: (-score[lh], lh))
    return order[:k]


# ---------------------------------------------------------------------------------------------
# Self-test bookkeeping
# ---------------------------------------------------------------------------------------------

class SelfTest:
    """Largest error of each check; a check fails when its error exceeds its tolerance."""

    def __init__(self, activation_dtype):
        self.float16 = activation_dtype == "float16"
        # Unit roundoff of the stored activations the invariants are recomputed from.
        self.unit_roundoff = 2.0 ** -11 if self.float16 else 2.0 ** -24
        self.errors = {}
        self.tolerances = {}
        self.notes = []

    def tolerance(self, float32, float16_roundoffs):
        """float32: the tolerance for float32 dumps; float16 dumps add this many float16 unit roundoffs."""
        return float32 + float16_roundoffs * self.unit_roundoff if self.float16 else float32

    def record(self, check, error, tolerance):
        self.errors[check] = max(self.errors.get(check, 0.0), float(error))
        self.tolerances[check] = tolerance

    def note(self, text):
        if text not in self.notes:
            self.notes.append(text)

    def failed(self):
        return [c for c in self.errors if not self.errors[c] <= self.tolerances[c]]

    def report(self, out):
        for check in sorted(self.errors):
            verdict = "ok" if self.errors[check] <= self.tolerances[check] else "FAIL"
            print(f"self-test {verdict:4} {check}: {self.errors[check]:.3e} (tolerance {self.tolerances[check]:.1e})",
                  file=out)
        for note in self.notes:
            print(f"self-test note: {note}", file=out)


def _relative(mine, stored, terms=None):
    """Largest |mine - stored| of each prompt over that prompt's largest |stored|, or over `terms` [p]
    where given; the worst prompt. Axis 0: prompt."""
    if mine.size == 0:
        return 0.0
    p = mine.shape[0]
    difference = np.abs(mine - stored).reshape(p, -1).max(axis=1)
    scale = np.abs(stored).reshape(p, -1).max(axis=1) if terms is None else terms
    return float(np.max(difference / np.where(scale > 0, scale, 1.0)))


def logit_terms(capture, pset, resid_final):
    """Per prompt, the largest sum over d_model of |final_norm(x)_i w_yi| over the labels: the size of
    the terms a float32 label logit is summed from, which its rounding is relative to. A logit much
    smaller than its terms (Gemma 3's cancel about 25x in tiny-gemma3) is not a relative yardstick. [p]"""
    normed, _ = final_norm(capture, resid_final)
    return (np.abs(normed) @ np.abs(pset.unembed).T).max(axis=1)


# ---------------------------------------------------------------------------------------------
# Pass 1: scores (§3, §4, §6)
# ---------------------------------------------------------------------------------------------

def attention_categories(group, start, stop, keep, tokens, reader):
    """One-hot category of each key (§6, first match wins): [p, token, 5]; keys past the end are all zero."""
    count = reader.read(group["token_count"], np.s_[start:stop], None)[keep]          # [p]
    special = reader.read(group["special_mask"], np.s_[start:stop], None)[keep] == 1  # [p, token]
    outputs = reader.read(group["demo_output_span"], np.s_[start:stop], None)[keep]   # [p, shot, bound]
    inputs = reader.read(group["demo_input_span"], np.s_[start:stop], None)[keep]     # [p, shot, bound]
    query = reader.read(group["query_span"], np.s_[start:stop], None)[keep]           # [p, bound]
    t = np.arange(tokens)

    def inside(spans):  # spans: [p, s, bound] -> [p, token]
        return ((t >= spans[..., :1]) & (t < spans[..., 1:])).any(axis=1)

    category = np.full((len(count), tokens), TEMPLATE)
    category[inside(query[:, None, :])] = ATTENTION_CATEGORIES.index("query")
    category[inside(inputs)] = ATTENTION_CATEGORIES.index("demo_inputs")
    category[inside(outputs)] = ATTENTION_CATEGORIES.index("demo_outputs")
    category[special] = ATTENTION_CATEGORIES.index("special")
    onehot = (category[..., None] == np.arange(len(ATTENTION_CATEGORIES))).astype(np.float64)
    onehot[t[None, :] >= count[:, None]] = 0.0
    return onehot


class SetScores:
    """Sums over the done prompts of one set (pass 1); with per_prompt, each prompt's values too."""

    def __init__(self, capture, tl_sample, per_prompt=False):
        shape = (capture.layers, capture.heads)
        self.tr = np.zeros(shape)
        self.tl = np.zeros(shape)
        self.tl_defined = np.zeros(shape, dtype=np.int64)
        self.dla_gold = np.zeros(shape)
        self.dla_margin = np.zeros(shape)
        # Sums of |summand| of the signed means: the scale their rounding errors are relative to.
        self.magnitude = {"tl_score": np.zeros(shape), "dla_gold": np.zeros(shape), "dla_margin": np.zeros(shape)}
        self.attention = np.zeros(shape + (len(ATTENTION_CATEGORIES),))
        self.z_sum = np.zeros((capture.layers, capture.heads, capture.d_head))  # for the leave-one-out means
        # Of the stored z, unscaled: attribution patching's means (§26: it keeps raw z and dM/dz).
        self.raw_z_sum = np.zeros((capture.layers, capture.heads, capture.d_head))
        self.n = 0
        # Self-test: plain per-prompt TR/TL of a few heads, projector P = V (V^T V)^+ V^T.
        self.sample = tl_sample
        self.sample_tr = {lh: 0.0 for lh in tl_sample}
        self.sample_tl = {lh: [0.0, 0] for lh in tl_sample}
        # per_prompt: one dict per chunk of "prompt_index" [p] and PER_PROMPT_COLUMNS [p, layer, head]
        # (NaN where undefined); None when not asked for.
        self.per_prompt = [] if per_prompt else None


def score_set(capture, pset, subspace, chunk, reader, test, per_prompt=False):
    L, H, Y = capture.layers, capture.heads, len(pset.labels)
    v = label_vectors(pset.unembed, capture, subspace)                       # [Y, d_model]
    Q = orthonormal_basis(v)                                                 # [d_model, k]
    k = Q.shape[1]
    folded_unembed = folded_rows(capture, pset.unembed)                      # [Y, d_model]
    bias_logits = pset.unembed @ capture.beta                                # beta . w_y: [Y]
    # One matmul per layer gives Q^T a_h, a_h . (gamma * w_y), and the margins of TL and DLA against
    # each possible gold label, each a single dot product with a difference vector: [d_model, k + 3Y].
    M = np.ascontiguousarray(np.concatenate(
        [Q, folded_unembed.T, margin_vectors(v).T, margin_vectors(folded_unembed).T], axis=1))
    sample = [(0, 0), (L // 2, H // 2), (L - 1, H - 1)] if test else []
    acc = SetScores(capture, sample, per_prompt)
    # Per-prompt magnitudes (check_analysis.py): the largest label vector norms the dot products use.
    largest_v = np.linalg.norm(v, axis=1).max()                              # TL: a . v_y
    largest_folded = np.linalg.norm(folded_unembed, axis=1).max()            # DLA: a . u_y
    projector = v.T @ np.linalg.pinv(v @ v.T, rcond=1e-10) @ v if test else None  # [d_model, d_model]

    for part in pset.parts:
        g = part.group
        tokens = g["attention"].shape[-1]
        for start, stop, keep in part.chunks(chunk):
            z = scaled_z(capture, g, start, stop, keep, reader)                     # [p, layer, head, d_head]
            scale = reader.read(g["final_norm_scale"], np.s_[start:stop, 0])[keep]  # [p]
            gold = pset.gold_y(g, start, stop, keep, part.path)                     # [p]
            attention = reader.read(g["attention"], np.s_[start:stop])[keep]        # [p, layer, head, token]
            p = z.shape[0]
            rows = np.arange(p)
            acc.n += p
            acc.z_sum += z.sum(axis=0)
            acc.raw_z_sum += reader.read(g["z"], np.s_[start:stop, 0])[keep].sum(axis=0) \
                if capture.attention_output_norm == "rms" else z.sum(axis=0)

            onehot = attention_categories(g, start, stop, keep, tokens, reader)     # [p, token, 5]
            masses = np.matmul(attention.reshape(p, L * H, tokens), onehot)         # [p, L*H, 5]
            acc.attention += masses.sum(axis=0).reshape(L, H, -1)
            if acc.per_prompt is not None:
                prompt_values = {c: np.full((p, L, H), np.nan) for c in ("tr", "tl", "dla_gold", "dla_margin")}
                for c, category in enumerate(ATTENTION_CATEGORIES):
                    prompt_values[f"attn_{category}"] = masses[:, :, c].reshape(p, L, H)
                prompt_values["prompt_index"] = reader.read(g["prompt_index"], np.s_[start:stop], None)[keep]
                prompt_values["magnitude"] = {c: np.zeros((p, L, H)) for c in ("tr", "tl", "dla_gold", "dla_margin")}
                acc.per_prompt.append(prompt_values)
            if test:
                test.record("attention masses sum to 1 (|sum - 1|)", np.abs(masses.sum(axis=2) - 1).max(),
                            test.tolerance(1e-5, 2))

            if test:
                resid = reader.read(g["resid"], np.s_[start:stop, 0])[keep]         # [p, resid_layer, d_model]
                # With beta . w_y once: the embedding's term carries it (§23.2).
                logit_lens = _project(resid, scale[:, None], folded_unembed) + bias_logits  # [p, resid_layer, Y]
                components = logit_lens[:, 0].copy()                                # embedding: [p, Y]
                head_logits_stored = None
                if "head_label_logits" in g:
                    stored = reader.read(g["head_label_logits"], np.s_[start:stop, 0])[keep]  # [p, L, H, label]
                    if np.any(stored != 0):
                        head_logits_stored = stored
                    else:
                        test.note(f"{pset.name}: head_label_logits present but all zero: not compared")

            zt = np.ascontiguousarray(z.transpose(1, 2, 0, 3))                      # [layer, head, p, d_head]
            for l in range(L):
                a = zt[l] @ capture.W_O[l]                                          # [head, p, d_model]
                projected = a @ M                                                   # [head, p, k + 3Y]
                tr = np.linalg.norm(projected[..., :k], axis=-1)                    # [head, p]
                head_logits = projected[..., k:k + Y] * scale[None, :, None]        # §4.1: [head, p, Y]
                # The size of the terms each value's float32 rounding is relative to (check_analysis.py):
                # |Q^T a| <= |a|, a . (v_gold - v_y') / TR <= |a| max|v_y| / TR, s a . u_y <= s |a| max|u_y|.
                norm = np.linalg.norm(a, axis=-1)                                   # [head, p]
                dla_terms = norm * scale * largest_folded                           # [head, p]
                acc.dla_gold[l] += head_logits[:, rows, gold].sum(axis=1)
                if acc.per_prompt is not None:
                    prompt_values["dla_gold"][:, l] = head_logits[:, rows, gold].T
                acc.magnitude["dla_gold"][l] += dla_terms.sum(axis=1)
                if Y >= 2:
                    tl_margin = projected[:, rows, k + Y + gold]                    # [head, p]
                    dla_margin = projected[:, rows, k + 2 * Y + gold] * scale       # [head, p]
                    acc.dla_margin[l] += dla_margin.sum(axis=1)
                    acc.magnitude["dla_margin"][l] += dla_terms.sum(axis=1)
                    defined = (norm > 0) & (tr > TL_DEFINED_FRACTION * norm)
                    tl = np.where(defined, tl_margin / np.where(defined, tr, 1.0), 0.0)
                    acc.tr[l] += tr.sum(axis=1)
                    acc.tl[l] += tl.sum(axis=1)
                    tl_terms = np.where(defined, norm * largest_v / np.where(defined, tr, 1.0), 0.0)
                    acc.magnitude["tl_score"][l] += tl_terms.sum(axis=1)
                    acc.tl_defined[l] += defined.sum(axis=1)
                    if acc.per_prompt is not None:
                        prompt_values["tr"][:, l] = tr.T
                        prompt_values["tl"][:, l] = np.where(defined, tl, np.nan).T
                        prompt_values["dla_margin"][:, l] = dla_margin.T
                        magnitude = prompt_values["magnitude"]
                        magnitude["tr"][:, l] = norm.T
                        magnitude["tl"][:, l] = tl_terms.T
                        magnitude["dla_margin"][:, l] = dla_terms.T
                if acc.per_prompt is not None:
                    prompt_values["magnitude"]["dla_gold"][:, l] = dla_terms.T
                if test:
                    _test_layer(test, acc, capture, pset, l, a, resid, scale, gold, v, projector,
                                folded_unembed, components, head_logits, head_logits_stored)
            if test:
                _test_chunk(test, capture, pset, g, start, stop, keep, reader, components, logit_lens, resid, scale)
    return acc


def _project(x, scale, folded_unembed):
    """Frozen-scale projection of §4.2, s * (gamma ⊙ x) . w_y: [..., d_model] -> [..., Y]."""
    return (x @ folded_unembed.T) * scale[..., None]


def margin_vectors(vectors):
    """Row g: vectors[g] - mean over y' != g of vectors[y'] ([Y, d_model]); zeros when Y < 2."""
    count = vectors.shape[0]
    if count < 2:
        return np.zeros_like(vectors)
    others = (vectors.sum(axis=0) - vectors) / (count - 1)
    return vectors - others


def _test_layer(test, acc, capture, pset, l, a, resid, scale, gold, v, projector, folded_unembed,
                components, head_logits, head_logits_stored):
    attn = a.sum(axis=0)                                                     # [p, d_model]
    bias = capture.b_O[l] if capture.b_O is not None else np.zeros(capture.d_model)
    mlp = resid[:, l + 1] - resid[:, l] - attn - bias                        # [p, d_model]
    components += head_logits.sum(axis=0) + _project(bias[None, :], scale, folded_unembed) \
        + _project(mlp, scale, folded_unembed)
    if head_logits_stored is not None:
        stored = head_logits_stored[:, l]                                    # [p, head, label]
        mine = head_logits.transpose(1, 0, 2)[:, :, pset.label_column_to_y]  # [p, head, label]
        test.record("head_label_logits: stored vs recomputed (of the prompt's largest)",
                    _relative(mine, stored), test.tolerance(1e-5, 8))
    rows = np.arange(a.shape[1])
    for (layer, head) in acc.sample:
        if layer != l or len(pset.labels) < 2:
            continue
        for p in rows:
            h_out = a[head, p]
            tr = np.linalg.norm(projector @ h_out)
            acc.sample_tr[(layer, head)] += tr
            wrong = [y for y in range(len(pset.labels)) if y != gold[p]]
            margin = np.mean([h_out @ (v[gold[p]] - v[y]) for y in wrong])
            if np.linalg.norm(h_out) > 0 and tr > TL_DEFINED_FRACTION * np.linalg.norm(h_out):
                acc.sample_tl[(layer, head)][0] += margin / tr
                acc.sample_tl[(layer, head)][1] += 1


def _test_chunk(test, capture, pset, g, start, stop, keep, reader, components, logit_lens, resid, scale):
    stored_logits = reader.read(g["label_logits"], np.s_[start:stop])[keep]     # [p, label]
    terms = logit_terms(capture, pset, resid[:, -1])
    test.record("components sum to label_logits (of the prompt's largest label-logit terms)",
                _relative(components[:, pset.label_column_to_y], stored_logits, terms),
                test.tolerance(1e-5, 8))
    test.record("proj(resid_final) = label_logits (of the prompt's largest label-logit terms)",
                _relative(logit_lens[:, -1][:, pset.label_column_to_y], stored_logits, terms),
                test.tolerance(1e-5, 8))
    if "resid_label_logits" in g:
        stored = reader.read(g["resid_label_logits"], np.s_[start:stop, 0])[keep]  # [p, resid_layer, label]
        if np.any(stored != 0):
            test.record("resid_label_logits: stored vs recomputed (of the prompt's largest)",
                        _relative(logit_lens[:, :, pset.label_column_to_y], stored), test.tolerance(1e-5, 8))
        else:
            test.note(f"{pset.name}: resid_label_logits present but all zero: not compared")


# ---------------------------------------------------------------------------------------------
# Induction and previous-token scores (§7)
# ---------------------------------------------------------------------------------------------

def induction_target_mask(tokens):
    """TransformerLens' induction detection pattern: D[q, k] = 1 iff 1 <= k <= q, token[k-1] == token[q], k-1 != q."""
    T = len(tokens)
    q = np.arange(T)[:, None]
    k = np.arange(T)[None, :]
    previous = np.concatenate([[-1], tokens[:-1]])                          # token[k-1], none for k = 0
    same = tokens[:, None] == previous[None, :]
    return ((k >= 1) & (k <= q) & same & (k - 1 != q)).astype(np.float64)


def probe_scores(capture, reader, test):
    """Means over every probe sequence of every probe set: three [layer, head] arrays, or None without probes."""
    L, H = capture.layers, capture.heads
    stripe = np.zeros((L, H))
    mul = np.zeros((L, H))
    previous = np.zeros((L, H))
    sequences = 0
    for name, parts in capture.probes:
        _merge_parts(parts, f"/probes/{name}")
        for part in parts:
            g = part.group
            R = int(_attr(g, "repeat_length", part.path))
            b = int(_attr(g, "bos", part.path))
            T = b + 2 * R
            pattern = g["attention_pattern"]                                  # [prompt, layer, head, query, key]
            if pattern.shape[-1] != T or pattern.shape[-2] != T:
                raise InputError(part.path, f"{g.name}: attention_pattern has {pattern.shape[-2:]} positions, "
                                 f"expected bos + 2 * repeat_length = {T}")
            second = np.arange(b + R, b + 2 * R)
            after = np.arange(1, T)
            above_diagonal = np.triu(np.ones((T, T)), 1)
            for row in part.rows:
                tokens = g["token_ids"][row][:T].astype(np.int64)
                D = induction_target_mask(tokens)                             # [query, key]
                for l in range(L):
                    A = reader.read(pattern, np.s_[row, l])                   # [head, query, key]
                    stripe[l] += A[:, second, second - R + 1].mean(axis=1)
                    mul[l] += (A * D).sum(axis=(1, 2)) / A.sum(axis=(1, 2))
                    previous[l] += A[:, after, after - 1].mean(axis=1)
                    if test:
                        test.record("probe attention rows sum to 1 (|sum - 1|)", np.abs(A.sum(axis=2) - 1).max(),
                                    test.tolerance(1e-5, 2))
                        test.record("probe attention is causal (mass above the diagonal)",
                                    np.abs(A * above_diagonal).max(), 0.0)
                sequences += 1
    if sequences == 0:
        return None
    return stripe / sequences, mul / sequences, previous / sequences


# ---------------------------------------------------------------------------------------------
# Pass 2: ablation estimates at the answer position (§5)
# ---------------------------------------------------------------------------------------------

class AblationSums:
    """Per-prompt metric sums of one (head set, mode)."""

    def __init__(self):
        self.values = {}
        self.magnitudes = {}
        self.n = 0

    def add(self, name, per_prompt):
        self.values[name] = self.values.get(name, 0.0) + float(np.sum(per_prompt))
        self.magnitudes[name] = self.magnitudes.get(name, 0.0) + float(np.sum(np.abs(per_prompt)))


def _metrics(sums, capture, pset, r, gold, gold_token):
    """Recomputed final norm and the §5.2 metrics of the ablated residual streams r: [p, d_model]."""
    normed, s = final_norm(capture, r)                                      # [p, d_model], [p]
    logits = normed @ pset.unembed.T                                        # [p, Y]
    rows = np.arange(len(gold))
    gold_logit = logits[rows, gold]
    sums.add("gold_logit", gold_logit)
    sums.add("gold_logprob_labels", _log_softmax_at(logits, gold))
    sums.add("label_accuracy", np.argmax(logits, axis=-1) == gold)
    if capture.full_unembed:
        vocab_logits = normed @ capture.unembed.T                     # [p, V]
        sums.add("gold_logprob_vocab", _log_softmax_at(vocab_logits, gold_token))
        top = np.argmax(vocab_logits, axis=-1)
        sums.add("accuracy", top == gold_token)
        if pset.kind == "classification":
            sums.add("label_set_ratio", np.isin(top, pset.labels))
    sums.n += len(gold)
    return logits, s


def _log_softmax_at(logits, index):
    """log softmax(logits)[index] per row, shifted by the row maximum first: [p, n], [p] -> [p]."""
    shifted = logits - logits.max(axis=-1, keepdims=True)
    return shifted[np.arange(len(index)), index] - np.log(np.exp(shifted).sum(axis=-1))


def ablate_set(capture, pset, head_sets, z_sum, chunk, reader, test):
    """head_sets: [(name, kind, [(layer, head), ...])]. Returns {(name, mode): AblationSums}."""
    n = pset.n
    # Sum over all done prompts of each head set's output: [d_model] (mean ablation, §5.1).
    set_totals = {name: _head_set_output(capture, heads, z_sum[None])[0] for name, _, heads in head_sets}
    sums = {("baseline", "none"): AblationSums()}
    for name, _, _ in head_sets:
        for mode in ("zero", "mean"):
            sums[(name, mode)] = AblationSums()
    brute = {name: [] for name, _, _ in head_sets[:1]} if test else {}
    for part in pset.parts:
        g = part.group
        for start, stop, keep in part.chunks(chunk):
            z = scaled_z(capture, g, start, stop, keep, reader)                     # [p, layer, head, d_head]
            resid_final = reader.read(g["resid"], np.s_[start:stop, 0, -1])[keep]   # [p, d_model]
            gold = pset.gold_y(g, start, stop, keep, part.path)
            gold_token = g["gold_token"][start:stop][keep].astype(np.int64)
            logits, s = _metrics(sums[("baseline", "none")], capture, pset, resid_final, gold, gold_token)
            if test:
                _test_baseline(test, pset, g, start, stop, keep, reader, logits, s, gold_token, capture,
                               resid_final)
            for name, _, heads in head_sets:
                output = _head_set_output(capture, heads, z)                        # sum_{h in S} a_h: [p, d_model]
                _metrics(sums[(name, "zero")], capture, pset, resid_final - output, gold, gold_token)
                if n > 1:
                    # a_h - a'_h summed over S, with a'_h the mean over the other n - 1 prompts.
                    difference = (n * output - set_totals[name][None, :]) / (n - 1)
                    _metrics(sums[(name, "mean")], capture, pset, resid_final - difference, gold, gold_token)
                if name in brute:
                    brute[name].append((output, resid_final, gold, gold_token))
    if test and brute and n > 1:
        _test_leave_one_out(test, capture, pset, brute, sums)
    return sums


def _head_set_output(capture, heads, z):
    """sum_{h in S} z_h @ W_O[l, h] for z: [p, layer, head, d_head] -> [p, d_model]."""
    out = np.zeros((z.shape[0], capture.d_model))
    for layer in sorted({l for l, _ in heads}):
        hs = [h for l, h in heads if l == layer]
        out += z[:, layer, hs].reshape(z.shape[0], -1) @ capture.W_O[layer, hs].reshape(-1, capture.d_model)
    return out


def _test_baseline(test, pset, g, start, stop, keep, reader, logits, s, gold_token, capture, resid_final):
    stored_scale = reader.read(g["final_norm_scale"], np.s_[start:stop, 0])[keep]
    test.record("baseline: recomputed final-norm scale vs stored (relative)", np.abs(s / stored_scale - 1).max(),
                test.tolerance(1e-5, 2))
    stored_logits = reader.read(g["label_logits"], np.s_[start:stop])[keep]
    test.record("baseline: recomputed label logits vs stored (of the prompt's largest label-logit terms)",
                _relative(logits[:, pset.label_column_to_y], stored_logits, logit_terms(capture, pset, resid_final)),
                test.tolerance(1e-5, 8))
    if capture.full_unembed:
        normed, _ = final_norm(capture, resid_final)
        vocab_logits = normed @ capture.unembed.T
        logprob = _log_softmax_at(vocab_logits, gold_token)
        stored = reader.read(g["gold_logprob"], np.s_[start:stop])[keep]
        test.record("baseline: full-vocabulary gold logprob vs stored (absolute)", np.abs(logprob - stored).max(),
                    test.tolerance(1e-3, 64))
        top = np.argmax(vocab_logits, axis=-1)
        stored_top = g["argmax"][start:stop][keep]
        mismatched = int((top != stored_top).sum())
        if test.float16 and mismatched:
            test.note(f"{pset.name}: full-vocabulary argmax from float16 activations differs from the stored one "
                      f"on {mismatched} prompts (not a check: float16 rounding can swap near-ties)")
        elif not test.float16:
            test.record("baseline: full-vocabulary argmax differs from stored (prompts)", mismatched, 0)


def _test_leave_one_out(test, capture, pset, brute, sums):
    """Mean ablation by an explicit loop over prompts, against the (n a - total) / (n - 1) form."""
    for name, batches in brute.items():
        output = np.concatenate([b[0] for b in batches])
        resid_final = np.concatenate([b[1] for b in batches])
        gold = np.concatenate([b[2] for b in batches])
        gold_token = np.concatenate([b[3] for b in batches])
        n = len(gold)
        check = AblationSums()
        for p in range(n):
            others = np.delete(output, p, axis=0).mean(axis=0)
            r = resid_final[p] - (output[p] - others)
            _metrics(check, capture, pset, r[None, :], gold[p:p + 1], gold_token[p:p + 1])
        for metric, value in check.values.items():
            mine = sums[(name, "mean")].values[metric]
            test.record("mean ablation: vectorised vs per-prompt loop (relative)",
                        abs(mine - value) / max(abs(value), 1e-12), 1e-10)


# ---------------------------------------------------------------------------------------------
# Pass 3: attribution patching from the stored gradients (§20)
# ---------------------------------------------------------------------------------------------

def attribution_columns(metric):
    """ablation.csv's columns for the gradient metric M ("" when the dump holds no gradients)."""
    if not metric:
        return ()
    name = metric.replace("-", "_")
    return (f"atp_delta_{name}_answer", f"atp_delta_{name}_all")


def _part_gradients(part, reader, z_sum, n):
    """Per done row of one file: the per-head first-order estimates [p, layer, head] of zero and of
    leave-one-out mean ablation (the set's own mean, (z_sum - z) / (n - 1)) at the answer position
    and at every position, and the |terms| they are made of."""
    g = part.group
    rows = part.rows
    z = reader.read(g["z"], np.s_[:, 0])[rows]                                 # [p, layer, head, d_head]
    grad = reader.read(g["grad_z"], np.s_[:, 0])[rows]                         # [p, layer, head, d_head]
    answer = reader.read(g["head_zgrad_answer"], np.s_[:])[rows]               # [p, layer, head]
    every = reader.read(g["head_zgrad_all_positions"], np.s_[:])[rows]         # [p, layer, head]
    mean = (z_sum[None] - z) / (n - 1)                                         # [p, layer, head, d_head]
    mean_dot_grad = np.einsum("plhe,plhe->plh", mean, grad)
    out = {"zero_answer": -answer, "zero_all": -every, "mean_answer": mean_dot_grad - answer,
           "magnitude_answer": np.abs(mean_dot_grad) + np.abs(answer), "magnitude_all": np.abs(every)}
    if "grad_z_position_sum" in g:
        summed = reader.read(g["grad_z_position_sum"], np.s_[:])[rows]        # [p, layer, head, d_head]
        mean_dot_sum = np.einsum("plhe,plhe->plh", mean, summed)
        out["mean_all"] = mean_dot_sum - every
        out["magnitude_all"] = np.abs(mean_dot_sum) + np.abs(every)
    return out, z, grad, answer


def clean_partner(capture, pset):
    """The clean set of the same task, shots and template (the CIE's mean, §10.1)."""
    for other in capture.sets:
        if other is not pset and other.variant == "clean" and other.task == pset.task and other.shots == pset.shots \
                and str(other.parts[0].group.attrs["template"]) == str(pset.parts[0].group.attrs["template"]):
            return other
    return None


def attribute_set(capture, pset, head_sets, z_sum, reader):
    """Returns ({(head_set name, mode): (answer, all, magnitude answer, magnitude all)} means over
    prompts of the set's estimates, cie_atp [layer, head] or None, its magnitude)."""
    metric = capture.gradient_metric
    n = pset.n
    parts = [_part_gradients(part, reader, z_sum, n) for part in pset.parts if len(part.rows)]
    per_head = {key: np.concatenate([part[0][key] for part in parts]) for key in parts[0][0]}
    if "mean_all" not in per_head:
        per_head["mean_all"] = np.full(per_head["zero_all"].shape, np.nan)
    sums = {}
    for name, _, heads in head_sets:
        layers = [l for l, _ in heads]
        hs = [h for _, h in heads]
        for mode in ("zero", "mean"):
            answer = per_head[f"{mode}_answer"][:, layers, hs].sum(axis=1)     # [P]
            every = per_head[f"{mode}_all"][:, layers, hs].sum(axis=1)
            magnitude_answer = per_head["magnitude_answer" if mode == "mean" else "zero_answer"][:, layers, hs]
            magnitude_all = per_head["magnitude_all" if mode == "mean" else "zero_all"][:, layers, hs]
            sums[(name, mode)] = (answer.mean(), every.mean(), np.abs(magnitude_answer).sum(axis=1).mean(),
                                  np.abs(magnitude_all).sum(axis=1).mean())
    cie, cie_magnitude = None, None
    partner = clean_partner(capture, pset) if pset.variant == "shuffled_labels" else None
    if partner is not None and metric in ("gold-prob", "gold-logprob"):
        total = np.zeros((capture.layers, capture.heads))
        magnitude = np.zeros((capture.layers, capture.heads))
        count = 0
        clean_parts = {part.path: part for part in partner.parts}
        for part in pset.parts:
            if not len(part.rows):
                continue
            clean = clean_parts[part.path]
            if not len(clean.rows):
                raise InputError(part.path, f"{clean.group.name} has no done prompt in this shard to take the CIE's mean from")
            clean_mean = reader.read(clean.group["z"], np.s_[:, 0])[clean.rows].mean(axis=0)   # [layer, head, d_head]
            _, z, grad, answer = _part_gradients(part, reader, z_sum, n)
            mean_dot_grad = np.einsum("lhe,plhe->plh", clean_mean, grad)
            factor = np.ones(len(part.rows))
            if metric == "gold-logprob":
                factor = np.exp(reader.read(part.group["gold_logprob"], np.s_[:])[part.rows])
            total += (factor[:, None, None] * (mean_dot_grad - answer)).sum(axis=0)
            magnitude += (factor[:, None, None] * (np.abs(mean_dot_grad) + np.abs(answer))).sum(axis=0)
            count += len(part.rows)
        cie, cie_magnitude = total / count, magnitude / count
    return sums, cie, cie_magnitude


# ---------------------------------------------------------------------------------------------
# The whole analysis
# ---------------------------------------------------------------------------------------------

def read_heads_json(path, capture):
    try:
        with open(path) as f:
            spec = json.load(f)
        heads = [(int(l), int(h)) for l, h in spec["heads"]]
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise InputError(path, f"not a head-set file {{\"heads\": [[layer, head], ...]}} ({error})")
    bad = [(l, h) for l, h in heads if not (0 <= l < capture.layers and 0 <= h < capture.heads)]
    if bad or not heads:
        raise InputError(path, f"heads outside the model's {capture.layers} layers x {capture.heads} heads: {bad}"
                         if bad else "the head set is empty")
    name = spec.get("name") or os.path.splitext(os.path.basename(path))[0]
    return f"file:{name}", sorted(set(heads))


class Analysis:
    """heads_rows / ablation_rows: lists of dicts keyed by HEADS_COLUMNS / ABLATION_COLUMNS."""

    def __init__(self):
        self.heads_rows = []
        self.ablation_rows = []
        # The columns of the rows: HEADS_COLUMNS and ABLATION_COLUMNS, and those of §20 with gradients.
        self.heads_columns = HEADS_COLUMNS
        self.ablation_columns = ABLATION_COLUMNS
        # {set name: {"prompt_index": [P], column: [P, layer, head] for PER_PROMPT_COLUMNS, "magnitude":
        # {column: [P, layer, head]} for tr, tl, dla_gold, dla_margin}}, when asked for.
        self.per_prompt = {}
        self.seconds = 0.0
        self.read_seconds = 0.0
        self.prompts = 0
        self.sets = 0
        self.heads = 0
        self.probe_sets = 0
        self.self_test = None


def analyze(paths, subspace="raw", top=0.03, heads_json=(), chunk=64, self_test=False, extra_head_sets=None,
            per_prompt=False):
    """extra_head_sets: {set name: [(head_set name, [(layer, head), ...])]}, ablated besides the top sets;
    per_prompt: also keep every prompt's values (result.per_prompt)."""
    began = time.perf_counter()
    reader = ReadTimer()
    capture = Capture(paths)
    result = Analysis()
    result.heads_columns = HEADS_COLUMNS + (("cie_atp",) if capture.gradient_metric else ())
    result.ablation_columns = ABLATION_COLUMNS + attribution_columns(capture.gradient_metric)
    test = SelfTest(capture.activation_dtype) if self_test else None
    try:
        files = [read_heads_json(p, capture) for p in heads_json]
        induction = probe_scores(capture, reader, test)
        for pset in capture.sets:
            if pset.n == 0:
                continue
            acc = score_set(capture, pset, subspace, chunk, reader, test, per_prompt)
            if per_prompt:
                chunks = acc.per_prompt
                result.per_prompt[pset.name] = {c: np.concatenate([values[c] for values in chunks])
                                                for c in ("prompt_index",) + PER_PROMPT_COLUMNS}
                result.per_prompt[pset.name]["magnitude"] = {
                    c: np.concatenate([values["magnitude"][c] for values in chunks]) for c in chunks[0]["magnitude"]}
            scores = set_scores(acc, len(pset.labels) < 2, top)
            if test:
                _test_samples(test, acc, scores)
            result.heads_rows += head_rows(capture, pset, acc, scores, induction)
            head_sets = [("top_tr", "named", scores["top_tr"]), ("top_tl", "named", scores["top_tl"])]
            head_sets += [(name, "named", heads) for name, heads in files]
            for name, heads in (extra_head_sets or {}).get(pset.name, []):
                if name not in {s[0] for s in head_sets}:
                    kind = "random" if name.startswith("random_") else "named"
                    head_sets.append((name, kind, sorted(set(heads))))
            sums = ablate_set(capture, pset, head_sets, acc.z_sum, chunk, reader, test)
            set_ablation = ablation_rows(pset, head_sets, sums)
            set_heads = result.heads_rows[-capture.layers * capture.heads:]
            if capture.gradient_metric:
                attributed, cie, cie_magnitude = attribute_set(capture, pset, head_sets, acc.raw_z_sum, reader)
                answer_column, all_column = attribution_columns(capture.gradient_metric)
                for row in set_ablation:
                    values = attributed.get((row["head_set"], row["mode"]))
                    row[answer_column] = values[0] if values else np.nan
                    row[all_column] = values[1] if values else np.nan
                    if values:
                        row["magnitude"][answer_column] = values[2]
                        row["magnitude"][all_column] = values[3]
                for row in set_heads:
                    row["cie_atp"] = cie[row["layer"], row["head"]] if cie is not None else np.nan
                    if cie is not None:
                        row["magnitude"]["cie_atp"] = cie_magnitude[row["layer"], row["head"]]
            result.ablation_rows += set_ablation
            result.prompts += acc.n
            result.sets += 1
    finally:
        capture.close()
    result.seconds = time.perf_counter() - began
    result.read_seconds = reader.seconds
    result.self_test = test
    result.heads = capture.layers * capture.heads
    result.probe_sets = len(capture.probes)
    return result


def set_scores(acc, undefined, top):
    """Per-head means of §3 and §4 ([layer, head] arrays) and the top sets; undefined: fewer than 2 labels."""
    n = acc.n
    nan = np.full(acc.tr.shape, np.nan)
    tl = np.where(acc.tl_defined > 0, acc.tl / np.maximum(acc.tl_defined, 1), np.nan)
    scores = {"tr_score": nan if undefined else acc.tr / n, "tl_score": nan if undefined else tl,
              "tl_undefined_prompts": np.full(acc.tr.shape, n) if undefined else n - acc.tl_defined,
              "dla_gold": acc.dla_gold / n, "dla_margin": nan if undefined else acc.dla_margin / n}
    scores["top_tr"] = top_heads(scores["tr_score"], top)
    scores["top_tl"] = top_heads(scores["tl_score"], top)
    return scores


def _test_samples(test, acc, scores):
    tr, tl = scores["tr_score"], scores["tl_score"]
    for lh in acc.sample:
        if math.isnan(tr[lh]):
            continue
        test.record("TR: Gram-Schmidt vs pinv projector, sampled heads (relative)",
                    abs(acc.sample_tr[lh] / acc.n - tr[lh]) / max(abs(tr[lh]), 1e-300), 1e-9)
        total, count = acc.sample_tl[lh]
        if count:
            test.record("TL: vectorised vs per-prompt loop, sampled heads (relative)",
                        abs(total / count - tl[lh]) / max(abs(tl[lh]), 1e-300), 1e-9)


def head_rows(capture, pset, acc, scores, induction):
    """heads.csv rows of one set; each also carries, unwritten, the mean |summand| of its signed means
    (the scale check_analysis.py measures their rounding against)."""
    n = acc.n
    rows = []
    for l in range(capture.layers):
        for h in range(capture.heads):
            row = {"set": pset.name, "task": pset.task, "variant": pset.variant, "shots": pset.shots,
                   "layer": l, "head": h, "top_tr": int((l, h) in scores["top_tr"]),
                   "top_tl": int((l, h) in scores["top_tl"])}
            for column in ("tr_score", "tl_score", "dla_gold", "dla_margin"):
                row[column] = float(scores[column][l, h])
            row["tl_undefined_prompts"] = int(scores["tl_undefined_prompts"][l, h])
            for c, category in enumerate(ATTENTION_CATEGORIES):
                row[f"attn_{category}"] = acc.attention[l, h, c] / n
            for column, values in zip(("induction_stripe", "induction_mul", "prev_token"),
                                      induction if induction else (None, None, None)):
                row[column] = values[l, h] if values is not None else np.nan
            row["magnitude"] = {"tl_score": acc.magnitude["tl_score"][l, h] / max(acc.tl_defined[l, h], 1),
                                "dla_gold": acc.magnitude["dla_gold"][l, h] / n,
                                "dla_margin": acc.magnitude["dla_margin"][l, h] / n}
            rows.append(row)
    return rows


def ablation_rows(pset, head_sets, sums):
    """ablation.csv rows of one set, with the same unwritten magnitudes as head_rows."""
    sizes = {name: len(heads) for name, _, heads in head_sets}
    kinds = {name: kind for name, kind, _ in head_sets}
    rows = []
    for (name, mode), s in sums.items():
        row = {"set": pset.name, "head_set": name, "kind": "baseline" if mode == "none" else kinds[name],
               "size": 0 if mode == "none" else sizes[name], "mode": mode, "position": "answer",
               "prompts": s.n, "magnitude": {}}
        for metric in ABLATION_COLUMNS[7:]:
            defined = s.n > 0 and metric in s.values
            row[metric] = s.values[metric] / s.n if defined else np.nan
            if defined:
                row["magnitude"][metric] = s.magnitudes[metric] / s.n
        rows.append(row)
    return rows


def format_value(value):
    if isinstance(value, (float, np.floating)):
        return "" if math.isnan(value) else repr(float(value))
    return str(value)


def write_csv(path, columns, rows):
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(columns)
        for row in rows:
            writer.writerow([format_value(row[c]) for c in columns])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("dumps", nargs="+", metavar="DUMP", help="a dump, or every shard of one capture")
    parser.add_argument("--out", required=True, metavar="DIR", help="folder for heads.csv and ablation.csv")
    parser.add_argument("--subspace", choices=SUBSPACES, default="raw", help="label subspace of TR/TL (§3.1)")
    parser.add_argument("--top", type=float, default=0.03, help="fraction of heads in the top sets (§3.5)")
    parser.add_argument("--heads-json", nargs="*", default=[], metavar="FILE",
                        help='head sets to ablate: {"heads": [[layer, head], ...], "name": optional}')
    parser.add_argument("--chunk", type=int, default=64, help="prompts read per h5py slice")
    parser.add_argument("--self-test", action="store_true", help="check the dump's invariants and the vectorised "
                        "formulas against per-prompt loops; exit 1 on a failure")
    args = parser.parse_args(argv)
    if not 0 < args.top <= 1:
        parser.error("--top must be in (0, 1]")
    if args.chunk < 1:
        parser.error("--chunk must be at least 1")
    try:
        result = analyze(args.dumps, args.subspace, args.top, args.heads_json, args.chunk, args.self_test)
        os.makedirs(args.out, exist_ok=True)
        write_csv(os.path.join(args.out, "heads.csv"), result.heads_columns, result.heads_rows)
        write_csv(os.path.join(args.out, "ablation.csv"), result.ablation_columns, result.ablation_rows)
    except InputError as error:
        print(f"analyze_reference: {error}", file=sys.stderr)
        return 1
    threads = os.environ.get("OPENBLAS_NUM_THREADS", "default")
    print(f"analyze_reference: {result.sets} sets, {result.prompts} prompts, {result.heads} heads, "
          f"{result.probe_sets} probe sets, float64, chunk {args.chunk}, OPENBLAS_NUM_THREADS {threads}: "
          f"{result.seconds:.2f} s (h5py reads {result.read_seconds:.2f} s)", file=sys.stderr)
    if result.self_test:
        result.self_test.report(sys.stderr)
        failed = result.self_test.failed()
        if failed:
            print(f"analyze_reference: self-test failed: {failed[0]}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
