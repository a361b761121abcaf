"""Bootstrap and backtest on a Dask cluster through joblib's backend (the optional ``dask``
extra; CI installs it). The cluster is a local one the test starts: two in-process workers,
one thread each, so the test needs no network and leaves no process behind."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import scaling_fit as sf
from scaling_fit.analysis.backtest import backtest

distributed = pytest.importorskip("distributed")
joblib = pytest.importorskip("joblib")


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(
        # ":0": a free port for the cluster's web server. None still binds 8787 and warns
        # ("Hosting the HTTP server on port ... instead") when another session holds it.
        n_workers=2,
        threads_per_worker=1,
        processes=False,
        dashboard_address=":0",
    )
    with distributed.Client(cluster) as client:
        yield client
    cluster.close()


def _runs() -> pd.DataFrame:
    """24 runs of Chinchilla losses (Epoch AI's parameters) with 1 % noise."""
    rng = np.random.default_rng(5)
    n = np.repeat(np.logspace(7.5, 9.5, 6), 4)
    d = n * np.tile([5.0, 10.0, 20.0, 40.0], 6)
    loss = (1.82 + 482 / n**0.3478 + 2085 / d**0.3658) * np.exp(rng.normal(0, 0.01, len(n)))
    run = [f"r{i}" for i in range(len(n))]
    return pd.DataFrame({"run": run, "n_params": n, "tokens": d, "loss": loss})


@pytest.mark.slow  # a LocalCluster per module (~2 s); CI runs it
def test_bootstrap_on_a_dask_cluster_matches_local(client) -> None:
    # Resamples are drawn in the parent from the seed, so where they are refitted cannot
    # change them: the same samples to rounding (1e-12) as the serial bootstrap.
    runs = _runs()
    local = sf.fit(runs, bootstrap=12, seed=2, progress=False)
    with distributed.get_task_stream(client) as tasks, joblib.parallel_backend("dask"):
        remote = sf.fit(runs, bootstrap=12, seed=2, n_jobs=2, progress=False)
    assert len(tasks.data) >= 2  # the refits ran as tasks on the cluster, not locally
    np.testing.assert_allclose(remote.samples, local.samples, rtol=1e-12)


@pytest.mark.slow  # a LocalCluster per module (~2 s); CI runs it
def test_backtest_on_a_dask_cluster_matches_local(client) -> None:
    runs = _runs()
    local = backtest(runs, ["chinchilla"], "largest-n", max_dropped=1, progress=False)
    with distributed.get_task_stream(client) as tasks, joblib.parallel_backend("dask"):
        remote = backtest(
            runs, ["chinchilla"], "largest-n", max_dropped=1, n_jobs=2, progress=False
        )
    assert len(tasks.data) >= 2
    pd.testing.assert_frame_equal(remote.errors, local.errors)
