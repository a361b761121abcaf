"""How the global search's stopping rules change fits: two checkouts on the same shapes.

Fits each of the four L(N, D) laws (Chinchilla, Kaplan, Farseer, over-training) to:

* every Gadre et al. training set (``data/gadre_overtraining``: RedPajama, C4, RefinedWeb),
  on its 4, 5 and 6 smallest sizes (the larger windows as far as the set has sizes);
* Epoch AI's Chinchilla runs (``data/epoch_chinchilla``, the 5 highest losses dropped);
* seeded synthetic ladders of 5, 6 and 8 sizes (2e7-1e9) from a Farseer truth (5 token
  multipliers, 5-320) and from Chinchilla's published law (4 multipliers, 5-160), with
  0.5 % log-normal noise, 3 seeds each,

and writes each fit's objective, convergence, number of refined starts and CPU seconds to a
JSON file. Run it once per checkout (``PYTHONPATH=<checkout>`` picks which ``scaling_fit``
is imported; it prints which), then ``--compare`` prints every fit whose objective,
convergence or number of refined starts differs, and the total CPU time of each::

    PYTHONPATH=/path/to/old python benchmarks/search_stops.py old.json
    python benchmarks/search_stops.py new.json
    python benchmarks/search_stops.py --compare old.json new.json

It asserts nothing and the test suite never runs it (about a minute per checkout).
"""

from __future__ import annotations

import argparse
import json
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

import scaling_fit as sf

DATA = Path(__file__).resolve().parents[1] / "data"
LAWS = ("chinchilla", "kaplan", "farseer", "overtraining")
# The synthetic Farseer truth of tests/laws/test_farseer.py (nats/token) and Hoffmann et
# al.'s published Chinchilla law (docs/laws.md).
FARSEER = {
    "a1": 70.0, "alpha": -0.3, "b1": -1.25, "a2": 560.0, "beta": -0.3, "b2": 5.1,
    "a3": 40.0, "gamma": -0.25, "b3": 0.5,
}  # fmt: skip
CHINCHILLA = {"E": 1.69, "A": 406.4, "B": 410.7, "alpha": 0.34, "beta": 0.28}
NOISE = 0.005


def ladder(law: str, params: dict, n_sizes: int, multipliers: np.ndarray, seed: int):
    """``n_sizes`` sizes (2e7-1e9) x ``multipliers`` (D = M N) of ``law``, with noise."""
    n, m = (np.ravel(a) for a in np.meshgrid(np.geomspace(2e7, 1e9, n_sizes), multipliers))
    loss = sf.get_law(law).predict(n, m * n, **params)
    loss = loss * np.exp(NOISE * np.random.default_rng(seed).standard_normal(loss.shape))
    runs = [f"r{i}" for i in range(len(n))]
    return pd.DataFrame({"run": runs, "n_params": n, "tokens": m * n, "loss": loss})


def data_sets() -> dict[str, pd.DataFrame]:
    """Every shape of the study, by name."""
    sets = {}
    gadre = sf.load_runs(
        DATA / "gadre_overtraining" / "gadre_models_flat.csv", columns={"loss": "loss_c4_val"}
    )
    for name in sorted(gadre["dataset_name"].unique()):
        runs = gadre[gadre["dataset_name"] == name].reset_index(drop=True)
        sizes = np.sort(runs["n_params"].unique())
        for k in range(4, len(sizes) + 1):
            sets[f"gadre {name}, {k} sizes"] = runs[runs["n_params"] <= sizes[k - 1]]
    epoch = sf.load_runs(DATA / "epoch_chinchilla" / "svg_extracted_data.csv")
    sets["epoch"] = epoch.loc[~sf.highest_loss_mask(epoch, 5)]
    for seed in range(3):
        for sizes in (5, 6, 8):
            farseer = ladder("farseer", FARSEER, sizes, np.geomspace(5, 320, 5), seed)
            sets[f"farseer {sizes}x5, seed {seed}"] = farseer
            chinchilla = ladder("chinchilla", CHINCHILLA, sizes, np.geomspace(5, 160, 4), seed)
            sets[f"chinchilla {sizes}x4, seed {seed}"] = chinchilla
    return sets


def measure(path: str) -> None:
    """Fit every law to every set and write the outcomes to ``path``."""
    print(f"scaling_fit {sf.__file__}")
    outcomes = {}
    for name, table in data_sets().items():
        for law in LAWS:
            start = time.process_time()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # the outcome is what is compared
                try:
                    fitted = sf.fit(table, law)
                except sf.DataError as error:
                    outcomes[f"{name} | {law}"] = {"error": str(error)}
                    continue
            outcomes[f"{name} | {law}"] = {
                "objective": fitted.objective,
                "converged": fitted.converged,
                "n_refined": fitted.options["n_refined"],
                "cpu": time.process_time() - start,
            }
    Path(path).write_text(json.dumps(outcomes, indent=1))
    print(f"{len(outcomes)} fits written to {path}")


def compare(old_path: str, new_path: str) -> None:
    """Print the fits that differ between two result files, and the total CPU of each."""
    old, new = (json.loads(Path(p).read_text()) for p in (old_path, new_path))
    differ = 0
    for key, before in old.items():
        after = new[key]
        if "error" in before or "error" in after:
            if before != after:
                differ += 1
                print(f"{key}: {before} -> {after}")
            continue
        same = after["objective"] == before["objective"] and (
            after["converged"],
            after["n_refined"],
        ) == (before["converged"], before["n_refined"])
        if not same:
            differ += 1
            change = after["objective"] / before["objective"] - 1
            print(
                f"{key}: objective {before['objective']:.6g} -> {after['objective']:.6g} "
                f"({change:+.2%}), converged {before['converged']} -> {after['converged']}, "
                f"starts {before['n_refined']} -> {after['n_refined']}, "
                f"{before['cpu']:.2f} -> {after['cpu']:.2f} s"
            )
    cpu = [sum(r.get("cpu", 0.0) for r in results.values()) for results in (old, new)]
    print(f"{differ} of {len(old)} fits differ; CPU {cpu[0]:.1f} s -> {cpu[1]:.1f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("paths", nargs="+", help="OUT.json, or OLD.json NEW.json with --compare")
    parser.add_argument("--compare", action="store_true")
    options = parser.parse_args()
    if options.compare:
        compare(*options.paths)
    else:
        measure(options.paths[0])


if __name__ == "__main__":
    main()
