"""Makes the statistics fixtures in Tests/Fixtures/stats/ from numpy, scipy and statsmodels.

Run from the repository root with any venv that has the three packages:

    python3 -m venv /tmp/venv-stats && /tmp/venv-stats/bin/pip install numpy scipy statsmodels
    /tmp/venv-stats/bin/python reference/make_stats_fixtures.py

Made with numpy 2.4.6, scipy 1.17.1, statsmodels 0.15.0 (recorded in each file's "versions").
The random generator is seeded and the JSON is written with sorted keys, so reruns give identical
files. NaN is written as null (JSON has no NaN); so is an undefined expected value.

What it writes:
  correlation.json  per case x, y and scipy.stats' pearsonr, spearmanr and kendalltau(variant='b')
                    statistics, computed on the pairs left after dropping every pair with a NaN on
                    either side; null where scipy gives NaN (fewer than 2 pairs, a constant side).
  ranks.json        per case x and scipy.stats.rankdata(x, method='average', nan_policy='omit').
  quantile.json     per case values, the q's, numpy.nanquantile(values, q) (method 'linear', numpy's
                    default) and numpy.nanmean(values); null where no value is defined.
  wilson.json       per case successes, trials, confidence and statsmodels'
                    proportion_confint(method='wilson') bounds, together with the closed form
                    computed here from scipy.stats.norm.isf as a cross-check of the two.
"""

from __future__ import annotations

import json
import math
import warnings
from importlib.metadata import version
from pathlib import Path

import numpy as np
import scipy.stats
from statsmodels.stats.proportion import proportion_confint

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "Tests" / "Fixtures" / "stats"
VERSIONS = {name: version(name) for name in ("numpy", "scipy", "statsmodels")}


def as_json(values) -> list:
    """Floats with NaN as null."""
    return [None if math.isnan(v) else float(v) for v in np.asarray(values, dtype=np.float64)]


def defined(value: float):
    return None if math.isnan(value) else float(value)


def write(name: str, payload: dict) -> None:
    payload["versions"] = VERSIONS
    path = OUT / name
    path.write_text(json.dumps(payload, sort_keys=True, indent=1, allow_nan=False) + "\n")
    print(f"wrote {path.relative_to(ROOT)}")


def correlation_cases(rng: np.random.Generator) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    nan = math.nan
    cases: dict[str, tuple[list | np.ndarray, list | np.ndarray]] = {
        "ties_small": ([1, 2, 2, 3, 4, 4, 4, 5], [2, 1, 3, 3, 5, 4, 4, 6]),
        "ties_on_both_sides_joint": ([1, 1, 2, 2, 3, 3, 3], [1, 1, 2, 1, 3, 3, 2]),
        "negative_with_ties": ([0, 1, 2, 3, 4, 5, 6, 7], [9, 7, 7, 5, 4, 4, 1, 0]),
        "n2_increasing": ([1, 2], [3, 5]),
        "n2_decreasing": ([1, 2], [3, 1]),
        "n2_tied_x": ([1, 1], [2, 3]),
        "constant_x": ([3, 3, 3, 3, 3], [1, 2, 3, 4, 5]),
        "constant_y": ([1, 2, 3, 4, 5], [0.1, 0.1, 0.1, 0.1, 0.1]),
        "single_pair": ([1], [2]),
        "empty": ([], []),
        "nan_dropped": ([1, nan, 3, 4, 5, 6, 2, nan], [2, 5, nan, 3, 6, 7, 1, nan]),
        "nan_leaves_one_pair": ([1, nan, 3], [2, 4, nan]),
        "nan_leaves_constant": ([1, nan, 1, 1], [2, 4, 3, 5]),
        "monotone_nonlinear": (np.arange(1, 13, dtype=float), np.exp(np.arange(1, 13, dtype=float))),
        "negative_zero_ties": ([-0.0, 0.0, 1, 2, -1], [3, 1, 2, 4, 0]),
        "large_common_offset": (1e9 + rng.normal(size=40), 5e8 + rng.normal(size=40)),
    }
    n = 1500
    x = rng.integers(0, 25, size=n).astype(float)
    y = np.round(0.4 * x + rng.normal(scale=4, size=n))
    cases["random_1500_ties"] = (x, y)
    x = rng.normal(size=n)
    cases["random_1500_continuous_negative"] = (x, -0.3 * x + rng.normal(size=n))
    x = rng.integers(0, 6, size=300).astype(float)
    y = rng.integers(0, 4, size=300).astype(float)
    x[rng.choice(300, size=30, replace=False)] = nan
    y[rng.choice(300, size=30, replace=False)] = nan
    cases["random_300_heavy_ties_with_nans"] = (x, y)
    return {name: (np.asarray(a, dtype=float), np.asarray(b, dtype=float)) for name, (a, b) in cases.items()}


def correlation(rng: np.random.Generator) -> None:
    rows = []
    for name, (x, y) in correlation_cases(rng).items():
        keep = ~np.isnan(x) & ~np.isnan(y)
        kx, ky = x[keep], y[keep]
        expected = {"pearson": None, "spearman": None, "kendall_b": None}
        if kx.size >= 2:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")   # scipy warns and returns NaN for a constant side
                expected = {
                    "pearson": defined(scipy.stats.pearsonr(kx, ky).statistic),
                    "spearman": defined(scipy.stats.spearmanr(kx, ky).statistic),
                    "kendall_b": defined(scipy.stats.kendalltau(kx, ky, variant="b").statistic),
                }
        rows.append({"name": name, "x": as_json(x), "y": as_json(y), **expected})
    write("correlation.json", {"cases": rows})


def ranks(rng: np.random.Generator) -> None:
    nan = math.nan
    cases = {
        "distinct": [3.5, -1, 2, 10, 0],
        "ties": [2, 1, 2, 3, 1, 2, 5],
        "all_equal": [7, 7, 7, 7],
        "single": [4.25],
        "empty": [],
        "negative_zero": [0.0, -0.0, 1, -1],
        "with_nan": [3, nan, 1, 3, nan, 2],
        "random_500_ties": rng.integers(0, 40, size=500),
    }
    rows = []
    for name, x in cases.items():
        x = np.asarray(x, dtype=float)
        r = scipy.stats.rankdata(x, method="average", nan_policy="omit") if x.size else np.array([])
        rows.append({"name": name, "x": as_json(x), "ranks": as_json(r)})
    write("ranks.json", {"cases": rows})


def quantile(rng: np.random.Generator) -> None:
    nan = math.nan
    qs = [0.0, 0.01, 0.025, 0.1, 0.25, 0.3, 0.5, 0.7, 0.75, 0.9, 0.975, 0.99, 1.0]
    cases = {
        "single": [2.5],
        "two": [4, -1],
        "seven_unsorted": [3, 9, -2, 7, 7, 0.5, 4],
        "ties": [1, 1, 1, 2, 2, 5, 5, 5, 5],
        "with_nan": [nan, 3, 1, nan, 2, 8],
        "all_nan": [nan, nan],
        "empty": [],
        "random_1000": rng.normal(loc=3, scale=2, size=1000),
        "random_101": rng.exponential(size=101),
    }
    rows = []
    for name, values in cases.items():
        values = np.asarray(values, dtype=float)
        has_value = bool((~np.isnan(values)).any())
        expected = [defined(np.nanquantile(values, q)) if has_value else None for q in qs]
        mean = defined(np.nanmean(values)) if has_value else None
        rows.append({"name": name, "values": as_json(values), "q": qs, "quantiles": expected, "mean": mean})
    write("quantile.json", {"cases": rows})


def wilson() -> None:
    cases = [(0, 10), (10, 10), (1, 1), (0, 1), (3, 7), (5, 10), (500, 1000), (30, 1024),
             (1, 1000), (999, 1000), (17, 25), (123456, 1000000)]
    rows = []
    for confidence in (0.95, 0.9, 0.99, 0.5):
        alpha = 1 - confidence
        z = scipy.stats.norm.isf(alpha / 2)
        for successes, trials in cases:
            lower, upper = proportion_confint(successes, trials, alpha=alpha, method="wilson")
            p = successes / trials
            denominator = 1 + z * z / trials
            center = (p + z * z / (2 * trials)) / denominator
            half = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / denominator
            assert abs(center - half - lower) < 1e-12 and abs(center + half - upper) < 1e-12, (successes, trials)
            rows.append({"successes": successes, "trials": trials, "confidence": confidence,
                         "z": float(z), "lower": float(lower), "upper": float(upper)})
    write("wilson.json", {"cases": rows})


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(20240607)
    correlation(rng)
    ranks(rng)
    quantile(rng)
    wilson()


if __name__ == "__main__":
    main()
