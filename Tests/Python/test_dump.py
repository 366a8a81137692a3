"""Reads a capture dump written by `icl-capture run` the way researchers do (h5py, xarray
with engine h5netcdf, numpy) and checks it against the format description schemas/dump-v1.json.

The Swift test Tests/CaptureTests/Capture/DumpPythonTests.swift runs captures and then this
file with pytest, with ICL_DUMP_FILE (the dump, or several joined by os.pathsep; every check
runs on each) and ICL_SCHEMA_FILE (the schema) set.
"""
import json
import os
import re

import h5py
import numpy as np
import pytest
import xarray as xr

PATHS = [p for p in os.environ.get("ICL_DUMP_FILE", "").split(os.pathsep) if p]
SCHEMA_PATH = os.environ.get("ICL_SCHEMA_FILE")

if not PATHS or not SCHEMA_PATH:
    pytest.skip("ICL_DUMP_FILE / ICL_SCHEMA_FILE not set: run through the Swift test "
                "DumpPythonTests, which writes the dump", allow_module_level=True)

with open(SCHEMA_PATH, encoding="utf-8") as handle:
    SCHEMA = json.load(handle)
GROUPS = {group["path"]: group for group in SCHEMA["groups"]}


@pytest.fixture(params=PATHS, ids=os.path.basename)
def path(request):
    return request.param


def open_dump(path):
    return h5py.File(path, "r")


def concrete_groups(f):
    """(schema group, h5py group) for every group of the file, {set}/{probe} expanded."""
    result = [(GROUPS["/"], f["/"]), (GROUPS["/model"], f["model"])]
    result += [(GROUPS["/sets/{set}"], f["sets"][name]) for name in sorted(f.get("sets", {}))]
    result += [(GROUPS["/probes/{probe}"], f["probes"][name]) for name in sorted(f.get("probes", {}))]
    return result


def activation_dtype(f):
    return {"float32": np.float32, "float16": np.float16}[f.attrs["activation_dtype"]]


def expected_dtype(f, value_type):
    if value_type == "activation":
        return np.dtype(activation_dtype(f))
    return {"float32": np.dtype(np.float32), "int32": np.dtype(np.int32), "uint8": np.dtype(np.uint8)}.get(value_type)


def scale_name(ref_holder, axis):
    """The name of the dimension scale attached to `axis` through DIMENSION_LIST."""
    scales = list(ref_holder.dims[axis].values())
    assert len(scales) == 1, f"{ref_holder.name} axis {axis}: {len(scales)} dimension scales attached"
    return scales[0].name.rsplit("/", 1)[-1]


def test_the_file_says_what_it_is(path):
    with open_dump(path) as f:
        assert f.attrs["format"] == SCHEMA["format"]
        assert f.attrs["format_version"].split(".")[0] == SCHEMA["version"].split(".")[0]
        assert f.attrs["activation_dtype"] in ("float32", "float16")
        json.loads(f.attrs["capture_config"])
        json.loads(f.attrs["definitions"])


def test_every_attribute_of_the_schema_is_present_with_its_type(path):
    with open_dump(path) as f:
        for spec, group in concrete_groups(f):
            for attribute in spec["attributes"]:
                assert attribute["name"] in group.attrs, f"{group.name}: attribute {attribute['name']} missing"
                value = group.attrs[attribute["name"]]
                kind = attribute["type"]
                where = f"{group.name}@{attribute['name']} = {value!r}"
                if kind == "string":
                    assert isinstance(value, str), where
                elif kind == "int":
                    assert np.issubdtype(np.asarray(value).dtype, np.integer) and np.ndim(value) == 0, where
                elif kind == "float":
                    assert np.issubdtype(np.asarray(value).dtype, np.floating) and np.ndim(value) == 0, where
                elif kind == "string[]":
                    assert all(isinstance(v, str) for v in np.atleast_1d(value)), where
                elif kind == "int[]":
                    assert np.issubdtype(np.asarray(value).dtype, np.integer), where
                else:
                    pytest.fail(f"unknown attribute type {kind} in the schema")


def test_every_dataset_of_the_schema_has_its_dimensions_and_type(path):
    with open_dump(path) as f:
        sizes_of_root = {name: f[name].shape[0] for name in (d["name"] for d in GROUPS["/"]["dimensions"])}
        checked = 0
        for spec, group in concrete_groups(f):
            sizes = dict(sizes_of_root)
            sizes.update({d["name"]: group[d["name"]].shape[0] for d in spec["dimensions"]})
            declared = {d["name"] for d in spec["dimensions"]}
            for dataset_spec in spec["datasets"]:
                name = dataset_spec["name"]
                if name not in group:
                    assert dataset_spec["optional"], f"{group.name}/{name} missing"
                    continue
                dataset = group[name]
                dims = dataset_spec["dimensions"]
                labels = [dataset.dims[i].label for i in range(dataset.ndim)]
                assert labels == dims, f"{dataset.name}: dimension labels {labels}, schema says {dims}"
                assert [scale_name(dataset, i) for i in range(dataset.ndim)] == dims, dataset.name
                assert dataset.shape == tuple(sizes[d] for d in dims), \
                    f"{dataset.name}: shape {dataset.shape} vs dims {dims} of sizes {sizes}"
                if dataset_spec["type"] == "string":
                    assert h5py.check_string_dtype(dataset.dtype) is not None, f"{dataset.name}: {dataset.dtype}"
                    assert h5py.check_string_dtype(dataset.dtype).encoding == "utf-8", dataset.name
                else:
                    assert dataset.dtype == expected_dtype(f, dataset_spec["type"]), \
                        f"{dataset.name}: {dataset.dtype}, schema says {dataset_spec['type']}"
                checked += 1
            # Nothing undeclared: every member is a dataset of the schema or a dimension.
            known = {d["name"] for d in spec["datasets"]} | declared
            if spec["path"] != "/":
                extra = [m for m in group if m not in known]
                assert not extra, f"{group.name}: members the schema does not declare: {extra}"
        assert checked > 0


def test_xarray_shows_labelled_arrays(path):
    with open_dump(path) as f:
        sets = sorted(f["sets"])
        probes = sorted(f.get("probes", {}))
        dtype = activation_dtype(f)
        stored_z = {name: f["sets"][name]["z"][()] for name in sets}
    assert sets, "the dump has no prompt sets"
    for name in sets:
        with xr.open_dataset(path, engine="h5netcdf", group=f"sets/{name}") as ds:
            assert ds["z"].dims == ("prompt", "position", "layer", "head", "d_head"), ds["z"].dims
            assert ds["resid"].dims == ("prompt", "position", "resid_layer", "d_model"), ds["resid"].dims
            assert ds["attention"].dims == ("prompt", "layer", "head", "token")
            assert ds["label_logits"].dims == ("prompt", "label")
            assert ds["z"].dtype == dtype and ds["resid"].dtype == dtype
            np.testing.assert_array_equal(ds["z"].values, stored_z[name])
            assert ds.sizes["prompt"] == ds["done"].size
            # Dimensions without coordinate values stay dimensions, not variables.
            assert "prompt" not in ds.data_vars and "token" not in ds.data_vars
            # A labelled selection works as researchers use it.
            answer = ds["z"].isel(position=0, layer=0)
            assert answer.dims == ("prompt", "head", "d_head")
    for name in probes:
        with xr.open_dataset(path, engine="h5netcdf", group=f"probes/{name}") as ds:
            assert ds["attention_pattern"].dims == ("prompt", "layer", "head", "query", "key")
            assert ds["attention_pattern"].dtype == dtype
    with xr.open_dataset(path, engine="h5netcdf", group="model") as ds:
        assert ds["W_O"].dims == ("layer", "head", "d_head", "d_model")
        assert ds["unembed"].dims == ("unembed_row", "d_model")


def test_rows_are_done_and_attention_rows_sum_to_one(path):
    with open_dump(path) as f:
        tolerance = 2e-3 if activation_dtype(f) == np.float16 else 1e-5
        for name, group in f["sets"].items():
            assert (group["done"][()] == 1).all(), f"{name}: rows not done"
            counts = group["token_count"][()]
            attention = group["attention"][()].astype(np.float64)
            for p, n in enumerate(counts):
                np.testing.assert_allclose(attention[p, :, :, :n].sum(-1), 1.0, atol=tolerance,
                                           err_msg=f"{name} prompt {p}")
                assert (attention[p, :, :, n:] == 0).all(), f"{name} prompt {p}: attention after the end"
            assert (group["positions"][:, 0] == counts - 1).all(), name
        for name, group in f.get("probes", {}).items():
            assert (group["done"][()] == 1).all(), name
            pattern = group["attention_pattern"][()].astype(np.float64)
            np.testing.assert_allclose(pattern.sum(-1), 1.0, atol=tolerance, err_msg=name)
            assert (np.triu(np.ones(pattern.shape[-2:]), k=1) * pattern == 0).all(), f"{name}: not causal"


def test_direct_logit_attribution_reproduces_the_label_logits(path):
    """logit(t) = (final_norm_scale * final_norm_weight * resid_final) . unembed[row of t]."""
    with open_dump(path) as f:
        half = activation_dtype(f) == np.float16
        model = f["model"]
        row_of = {int(t): i for i, t in enumerate(model["unembed_ids"][()])}
        unembed = model["unembed"][()].astype(np.float64)
        gamma = model["final_norm_weight"][()].astype(np.float64)
        for name, group in f["sets"].items():
            label_ids = group["label_ids"][()]
            rows = unembed[[row_of[int(t)] for t in label_ids]]                      # [label, d_model]
            resid_final = group["resid"][:, 0, -1, :].astype(np.float64)            # [prompt, d_model]
            scale = group["final_norm_scale"][:, 0].astype(np.float64)              # [prompt]
            logits = (scale[:, None] * gamma[None, :] * resid_final) @ rows.T        # [prompt, label]
            stored = group["label_logits"][()].astype(np.float64)
            scale_of_logits = max(np.abs(stored).max(), 1.0)
            error = np.abs(logits - stored).max() / scale_of_logits
            assert error < (1e-2 if half else 1e-4), f"{name}: DLA differs from label_logits by {error:.3g} relative"
            if not half:
                # The stored scale is the final RMSNorm's of the stored resid_final.
                eps = float(model.attrs["rms_norm_epsilon"])
                recomputed = 1 / np.sqrt((resid_final ** 2).mean(-1) + eps)
                np.testing.assert_allclose(scale, recomputed, rtol=1e-5, err_msg=name)


def _projection_tolerance(f):
    """Stored z and resid are float16 in a --dtype f16 dump while the projections were
    computed from their float32 values: the recompute is then only as close as the rounding."""
    return 2e-3 if activation_dtype(f) == np.float16 else 1e-5


def test_label_projections_equal_a_numpy_recompute(path):
    """head_label_logits = s * sum_d gamma[d] (z_h @ W_O[l, h])[d] W_U[label, d] and
    resid_label_logits = s * sum_d gamma[d] resid[d] W_U[label, d], from the dump alone."""
    with open_dump(path) as f:
        tolerance = _projection_tolerance(f)
        model = f["model"]
        row_of = {int(t): i for i, t in enumerate(model["unembed_ids"][()])}
        unembed = model["unembed"][()].astype(np.float64)
        gamma = model["final_norm_weight"][()].astype(np.float64)
        w_o = model["W_O"][()].astype(np.float64)                                    # [layer, head, d_head, d_model]
        for name, group in f["sets"].items():
            directions = gamma * unembed[[row_of[int(t)] for t in group["label_ids"][()]]]  # [label, d_model]
            scale = group["final_norm_scale"][()].astype(np.float64)                 # [prompt, position]
            z = group["z"][()].astype(np.float64)                                    # [prompt, position, layer, head, d_head]
            resid = group["resid"][()].astype(np.float64)                            # [prompt, position, resid_layer, d_model]
            heads = np.einsum("pclhe,lhed,yd->pclhy", z, w_o, directions) * scale[:, :, None, None, None]
            streams = np.einsum("pcrd,yd->pcry", resid, directions) * scale[:, :, None, None]
            for stored, expected, what in [(group["head_label_logits"][()], heads, "head_label_logits"),
                                           (group["resid_label_logits"][()], streams, "resid_label_logits")]:
                assert stored.dtype == np.float32, f"{name}/{what}: {stored.dtype}"
                assert stored.shape == expected.shape, f"{name}/{what}: {stored.shape} vs {expected.shape}"
                error = np.abs(stored - expected).max() / max(np.abs(expected).max(), 1e-30)
                assert error < tolerance, f"{name}/{what}: differs from numpy by {error:.3g} relative"


def test_last_residual_projection_at_the_answer_is_label_logits(path):
    with open_dump(path) as f:
        for name, group in f["sets"].items():
            last = group["resid_label_logits"][:, 0, -1, :].astype(np.float64)      # [prompt, label]
            stored = group["label_logits"][()].astype(np.float64)
            error = np.abs(last - stored).max() / max(np.abs(stored).max(), 1.0)
            assert error < 1e-5, f"{name}: resid_label_logits[:, 0, -1] differs from label_logits by {error:.3g}"


def _token_bytes(text):
    """A token_text entry back to its bytes: <0xNN> stands for byte NN."""
    return re.sub(rb"<0x([0-9A-F]{2})>", lambda m: bytes([int(m.group(1), 16)]), text.encode("utf-8"))


def test_token_text_spells_the_prompts_and_labels(path):
    """Every vocabulary entry has its text; the ordinary tokens of each prompt spell the prompt
    (byte-level tokenizers: the test models'), and each label's first token starts the label."""
    with open_dump(path) as f:
        texts = f["model/token_text"].asstr()[()]
        assert texts.shape == (int(f["model"].attrs["vocabulary_size"]),)
        assert any("<0x" in text for text in texts), "no byte token shows as <0xNN>"
        for name, group in f["sets"].items():
            counts, prompts = group["token_count"][()], group["text"].asstr()[()]
            for p, (ids, mask) in enumerate(zip(group["token_ids"][()], group["special_mask"][()])):
                spelled = b"".join(_token_bytes(texts[t]) for t, m in zip(ids[:counts[p]], mask[:counts[p]]) if not m)
                assert spelled.decode("utf-8") == prompts[p], f"{name} prompt {p}"
            if group.attrs["task_kind"] == "classification":
                for label, token in zip(np.atleast_1d(group.attrs["labels"]), group["label_ids"][()]):
                    assert _token_bytes(label).startswith(_token_bytes(texts[token])), f"{name}: {label!r} vs {texts[token]!r}"
    with xr.open_dataset(path, engine="h5netcdf", group="model") as ds:
        assert ds["token_text"].dims == ("vocabulary",)


GRADIENT_DATASETS = ["grad_metric", "grad_z", "grad_resid", "grad_z_position_sum", "head_zgrad_answer",
                     "head_zgrad_all_positions"]


def test_gradients_are_there_exactly_when_captured(path):
    with open_dump(path) as f:
        metric = f.attrs["gradient_metric"]
        config = json.loads(f.attrs["capture_config"])
        assert config.get("grads", "") == metric
        for name, group in f["sets"].items():
            present = [d for d in GRADIENT_DATASETS if d in group]
            assert present == (GRADIENT_DATASETS if metric else []), f"{name}: {present} with gradient_metric {metric!r}"
            if metric:
                summed = group["grad_z_position_sum"]
                assert summed.dtype == np.float32 and summed.shape == group["z"].shape[:1] + group["z"].shape[2:], name
            if metric:
                assert group["grad_z"].shape == group["z"].shape and group["grad_z"].dtype == group["z"].dtype, name
                assert group["grad_resid"].shape == group["resid"].shape and group["grad_resid"].dtype == group["resid"].dtype
                for summed in GRADIENT_DATASETS[4:]:
                    assert group[summed].dtype == np.float32 and group[summed].shape == group["z"].shape[:1] + group["z"].shape[2:4]


def test_answer_position_head_sums_are_z_dot_grad_z(path):
    """head_zgrad_answer = sum_e z[p, 0, l, h, e] * grad_z[p, 0, l, h, e], up to the rounding
    of the stored values, which the sums (from float32) do not have: float16 rounds each factor
    by up to 2^-11 of itself, so each product by about 2^-10; float32 leaves the sum's own rounding."""
    with open_dump(path) as f:
        if not f.attrs["gradient_metric"]:
            return
        relative = 1e-3 if activation_dtype(f) == np.float16 else 1e-6
        for name, group in f["sets"].items():
            z = group["z"][:, 0].astype(np.float64)                                  # [prompt, layer, head, d_head]
            grad = group["grad_z"][:, 0].astype(np.float64)
            expected = np.einsum("plhe,plhe->plh", z, grad)
            bound = relative * np.einsum("plhe,plhe->plh", np.abs(z), np.abs(grad)) + 1e-30
            stored = group["head_zgrad_answer"][()].astype(np.float64)
            assert (np.abs(stored - expected) <= bound).all(), f"{name}: worst {np.max(np.abs(stored - expected) / bound):.3g} of the bound"


def test_last_layer_position_sum_is_the_answer_positions_gradient(path):
    """grad_z_position_sum of the last layer = grad_z there at the answer position: M is read at
    the answer position (the last token), and the last layer's z at any other token reaches no
    later layer and no logit that M reads, so its gradient is 0. Every earlier layer's sum is
    checked against the engine in GradientCaptureTests. float16: grad_z is rounded, the sum is not."""
    with open_dump(path) as f:
        if not f.attrs["gradient_metric"]:
            return
        relative = 1e-3 if activation_dtype(f) == np.float16 else 1e-6
        for name, group in f["sets"].items():
            summed = group["grad_z_position_sum"][:, -1].astype(np.float64)            # [prompt, head, d_head]
            answer = group["grad_z"][:, 0, -1].astype(np.float64)
            scale = np.abs(answer).max(axis=(1, 2), keepdims=True) + 1e-30
            assert (np.abs(summed - answer) <= relative * scale).all(), f"{name}: worst {np.max(np.abs(summed - answer) / scale):.3g}"


def test_final_residual_gradient_is_the_metric_through_the_final_norm(path):
    """At the answer position dM/d resid_final, recomputed in numpy from the dump's own
    final_norm_weight and unembedding (every row: --full-unembed), with the final RMSNorm's
    scale differentiated: y = s(x) * gamma * x, s = (mean x^2 + eps)^-1/2, logits = W_U y,
    dM/dx = s * gamma * u - s^3 / D * (x . gamma * u) * x with u = W_U^T dM/dlogits."""
    with open_dump(path) as f:
        metric = f.attrs["gradient_metric"]
        if not metric:
            return
        model = f["model"]
        unembed = model["unembed"][()].astype(np.float64)                            # [vocabulary, d_model]
        assert (model["unembed_ids"][()] == np.arange(unembed.shape[0])).all(), "the test needs --full-unembed"
        gamma = model["final_norm_weight"][()].astype(np.float64)
        eps = float(model.attrs["rms_norm_epsilon"])
        # float16: resid_final and the stored gradient are both rounded (about 5e-4 each).
        relative = 2e-3 if activation_dtype(f) == np.float16 else 1e-5
        for name, group in f["sets"].items():
            x = group["resid"][:, 0, -1, :].astype(np.float64)                        # [prompt, d_model]
            stored = group["grad_resid"][:, 0, -1, :].astype(np.float64)
            gold = group["gold_token"][()]
            s = 1 / np.sqrt((x ** 2).mean(-1) + eps)                                  # [prompt]
            logits = (s[:, None] * gamma * x) @ unembed.T                             # [prompt, vocabulary]
            probabilities = np.exp(logits - logits.max(-1, keepdims=True))
            probabilities /= probabilities.sum(-1, keepdims=True)
            one_hot = np.eye(unembed.shape[0])[gold]
            if metric == "gold-logprob":
                d_logits = one_hot - probabilities
            elif metric == "gold-prob":
                d_logits = probabilities[np.arange(len(gold)), gold][:, None] * (one_hot - probabilities)
            else:                                                                     # label-margin
                d_logits = one_hot.copy()
                for p, g in enumerate(gold):
                    wrong = sorted(set(int(t) for t in group["label_ids"][()]) - {int(g)})
                    d_logits[p, wrong] -= 1 / len(wrong)
            u = gamma * (d_logits @ unembed)                                          # [prompt, d_model]
            expected = s[:, None] * u - (s ** 3 / x.shape[1] * (x * u).sum(-1))[:, None] * x
            error = np.abs(stored - expected).max() / np.abs(expected).max()
            assert error < relative, f"{name}: dM/d resid_final differs from numpy by {error:.3g} of its largest value"
            if metric == "gold-logprob":
                np.testing.assert_allclose(group["grad_metric"][()], group["gold_logprob"][()], rtol=1e-6, err_msg=name)
