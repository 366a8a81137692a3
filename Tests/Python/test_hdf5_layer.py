"""Reads a file written by the Swift HDF5 layer (Tests/SharedTests/HDF5PythonCrossCheckTests)
with h5py and xarray (engine h5netcdf), the way researchers read capture dumps.

The Swift test sets ICL_HDF5_LAYER_FILE and runs this file with pytest, or as a plain
script when pytest is missing. Shapes and values mirror writeCrossCheckFile there.
"""
import os
import sys

import h5py
import numpy as np
import xarray as xr

PROMPTS, TOKENS, LAYERS, HEADS, HEAD_DIM = 3, 4, 5, 2, 6
DIMS = ("prompt", "token", "layer", "head", "dim")
PATH = os.environ.get("ICL_HDF5_LAYER_FILE")

try:
    import pytest

    if PATH is None:
        pytest.skip("ICL_HDF5_LAYER_FILE not set: run through the Swift test "
                    "HDF5PythonCrossCheckTests, which writes the file", allow_module_level=True)
except ImportError:
    pytest = None


def expected_z():
    """z[p, t, l, h, d] = ((p * 7919 + flat * 31) % 97 - 48) / 16, flat = row-major index in row p."""
    flat = np.arange(TOKENS * LAYERS * HEADS * HEAD_DIM)
    rows = [((p * 7919 + flat * 31) % 97 - 48) / 16 for p in range(PROMPTS)]
    return np.stack(rows).reshape(PROMPTS, TOKENS, LAYERS, HEADS, HEAD_DIM)


def rounding_inputs():
    bits = (0x33000000 + np.arange(8192, dtype=np.uint64) * 40503).astype(np.uint32)
    values = bits.view(np.float32)
    return np.stack([values, -values], axis=1).reshape(-1)


def test_root_attributes():
    with h5py.File(PATH, "r") as f:
        assert f.attrs["model"] == "SmolLM2-135M — Q4_1"
        assert f.attrs["layers"] == LAYERS and f.attrs["layers"].dtype == np.int64
        assert f.attrs["scale"] == 0.125
        assert list(f.attrs["heads"]) == [0, 3, -7]
        assert list(f.attrs["weights"]) == [0.5, -1e-9]
        assert [str(w) for w in f.attrs["words"]] == ["hot", "cold", "naïve"]
        assert f["sets/antonym/z"].attrs["units"] == "activation"


def test_float16_activations_and_done_flags():
    with h5py.File(PATH, "r") as f:
        z = f["sets/antonym/z"]
        assert z.dtype == np.float16
        assert z.shape == (PROMPTS, TOKENS, LAYERS, HEADS, HEAD_DIM)
        assert z.chunks is None  # contiguous, allocated up front
        np.testing.assert_array_equal(z[()], expected_z().astype(np.float16))
        assert list(f["sets/antonym/done"][()]) == [1] * PROMPTS
        assert [z.dims[i].label for i in range(5)] == list(DIMS)


def test_float16_rounding_matches_numpy():
    with h5py.File(PATH, "r") as f:
        stored = f["numbers/rounding"][()]
    assert stored.dtype == np.float16
    expected = rounding_inputs().astype(np.float16)
    np.testing.assert_array_equal(stored.view(np.uint16), expected.view(np.uint16))


def test_numeric_dtypes_and_values():
    with h5py.File(PATH, "r") as f:
        n = f["numbers"]
        assert n["f32"].dtype == np.float32
        np.testing.assert_array_equal(n["f32"][()], np.array([0.1, -2, 3e38], dtype=np.float32))
        assert n["f64"].dtype == np.float64 and list(n["f64"][()]) == [0.1, -2, 1e300]
        assert n["i8"].dtype == np.int8 and list(n["i8"][()]) == [-128, 0, 127]
        assert n["u8"].dtype == np.uint8 and list(n["u8"][()]) == [0, 1, 255]
        assert n["i32"].dtype == np.int32 and list(n["i32"][()]) == [-2**31, 0, 2**31 - 1]
        assert n["i64"].dtype == np.int64 and list(n["i64"][()]) == [-2**63, 0, 2**63 - 1]
        packed = n["packed"]
        assert packed.compression == "gzip" and packed.shuffle and packed.chunks == (16, 32)
        np.testing.assert_array_equal(packed[()].reshape(-1), np.arange(2048) % 17)


def test_strings():
    with h5py.File(PATH, "r") as f:
        assert list(f["sets/antonym/words"].asstr()[()]) == ["hot", "naïve", "日本語"]
        fixed = f["sets/antonym/fixed"]
        assert fixed.dtype.kind == "S" and fixed.dtype.itemsize == 8
        assert list(fixed[()]) == [b"a", b"bb", b"ccc"]


def test_xarray_shows_labelled_dims():
    with xr.open_dataset(PATH, engine="h5netcdf", group="sets/antonym") as ds:
        z = ds["z"]
        assert z.dims == DIMS
        assert z.dtype == np.float16
        assert dict(ds.sizes) == dict(zip(DIMS, (PROMPTS, TOKENS, LAYERS, HEADS, HEAD_DIM)))
        assert list(ds.coords) == ["layer"]
        assert list(ds["layer"].values) == list(range(LAYERS))
        # Dimensions without coordinate values are not variables.
        assert set(ds.data_vars) == {"z", "done", "words", "fixed"}
        assert ds["done"].dims == ("prompt",) and ds["words"].dims == ("prompt",)
        assert list(ds["words"].values) == ["hot", "naïve", "日本語"]
        assert z.attrs["units"] == "activation"
        np.testing.assert_array_equal(z.sel(layer=2).values, expected_z()[:, :, 2].astype(np.float16))


if __name__ == "__main__":
    if PATH is None:
        sys.exit("ICL_HDF5_LAYER_FILE not set")
    tests = [value for name, value in sorted(globals().items()) if name.startswith("test_")]
    failed = 0
    for test in tests:
        try:
            test()
        except Exception as error:  # report every failing check, not just the first
            failed += 1
            print(f"FAILED {test.__name__}: {error!r}")
    print(f"{len(tests) - failed} passed, {failed} failed")
    sys.exit(1 if failed else 0)
