"""Writers of real TensorBoard event files and MLflow stores for the log-store tests.

Each writes with the field's own library (the ``tensorboard`` package's writers, MLflow's
``MlflowClient``), as a training job would; the tests import these only after
``pytest.importorskip`` of the library.  A run is ``{tag: [(step, value), …]}`` in the order
written, plus run-level values (TensorBoard hparams, MLflow params).
"""

from __future__ import annotations

import contextlib
import shutil
import warnings
from collections.abc import Mapping
from pathlib import Path

import numpy as np

Scalars = Mapping[str, list[tuple[int, float]]]

SIZES = {"100M": 1e8, "300M": 3e8, "1B": 1e9, "3B": 3e9, "10B": 1e10}
BATCH = 2**19  # tokens per step
LENGTHS = (4_000, 12_000, 40_000, 120_000)  # steps: 2.1e9 to 6.3e10 tokens


def ladder(seed: int = 0) -> dict[str, tuple[Scalars, dict[str, float]]]:
    """Twenty runs of a Chinchilla-like ladder (five sizes, four lengths; 1 % noise), in
    the order of their names: loss and LR at ten steps, grad norm at twice as many; run-level
    n_params and batch_size.  Losses and LRs are float32 numbers (what an event file holds),
    so a CSV of them holds the very same data."""
    rng = np.random.default_rng(seed)
    runs = {}
    for name, n in SIZES.items():
        for length in LENGTHS:
            steps = [length * k // 10 for k in range(1, 11)]
            d = np.array(steps, float) * BATCH
            loss = (1.7 + 400 / n**0.34 + 410 / d**0.28) * np.exp(rng.normal(0, 0.01, len(d)))
            loss = loss.astype(np.float32).astype(float).tolist()
            lr = np.float32(3e-4).item()
            scalars = {
                "train/loss": list(zip(steps, loss, strict=True)),
                "train/learning_rate": [(s, lr) for s in steps],
                "train/grad_norm": [(length * k // 20, 1.0) for k in range(1, 21)],
            }
            runs[f"{name}-{length // 1000:03d}k"] = (scalars, {"n_params": n, "batch_size": BATCH})
    return dict(sorted(runs.items()))


def ladder_csv(path: Path, runs: Mapping[str, tuple[Scalars, dict[str, float]]]) -> Path:
    """The ladder's loss and LR as one long CSV (run, step, n_params, batch_size, lr, loss)."""
    lines = ["run,step,n_params,batch_size,lr,loss"]
    for name, (scalars, values) in runs.items():
        lr = dict(scalars["train/learning_rate"])
        for step, loss in scalars["train/loss"]:
            lines.append(
                f"{name},{step},{values['n_params']!r},{values['batch_size']!r},"
                f"{lr[step]!r},{loss!r}"
            )
    path.write_text("\n".join(lines) + "\n")
    return path


# ----------------------------------------------------------------------- TensorBoard
def write_tensorboard(
    folder: Path, scalars: Scalars, hparams: Mapping[str, float] | None = None, *, simple=False
) -> Path:
    """One event file in ``folder``: TF2 tensor scalars (``tensorboard.summary.Writer``, as
    Keras and Flax write), or with ``simple`` TF1 ``simple_value`` scalars (as PyTorch's
    ``SummaryWriter`` writes), plus an hparams session start; returns the file."""
    from tensorboard.compat.proto import event_pb2, summary_pb2
    from tensorboard.summary import Writer
    from tensorboard.summary.writer.event_file_writer import EventFileWriter

    folder.mkdir(parents=True, exist_ok=True)
    before = set(folder.iterdir())
    events = [(step, tag, value) for tag, points in scalars.items() for step, value in points]
    if simple or hparams:
        writer = EventFileWriter(str(folder))
        if hparams:
            from tensorboard.plugins.hparams import summary_v2

            summary = summary_v2.hparams_pb(dict(hparams))
            writer.add_event(event_pb2.Event(step=0, wall_time=1.0, summary=summary))
        for wall, (step, tag, value) in enumerate(events):
            value_pb = summary_pb2.Summary.Value(tag=tag, simple_value=value)
            summary = summary_pb2.Summary(value=[value_pb])
            writer.add_event(event_pb2.Event(step=step, wall_time=2.0 + wall, summary=summary))
        writer.close()
    else:
        writer = Writer(str(folder))
        for wall, (step, tag, value) in enumerate(events):
            writer.add_scalar(tag, value, step, wall_time=2.0 + wall)
        writer.close()
    (written,) = set(folder.iterdir()) - before
    return written


def write_tensorboard_ladder(root: Path, runs, *, simple=False) -> Path:
    for name, (scalars, values) in runs.items():
        write_tensorboard(root / name, scalars, values, simple=simple)
    return root


# ----------------------------------------------------------------------- MLflow
def mlflow_client(uri: str):
    from mlflow.tracking import MlflowClient

    return MlflowClient(tracking_uri=uri)


@contextlib.contextmanager
def quiet_mlflow():
    """MLflow's own deprecation warnings (SQLAlchemy 2.1's noload, the file store) off:
    the suite turns warnings into errors, and these are MLflow's, not ours."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", FutureWarning)
        yield


def empty_store(path: Path) -> Path:
    """A new, empty MLflow SQLite store at ``path`` (MLflow creates and migrates it)."""
    with quiet_mlflow():
        mlflow_client(f"sqlite:///{path}").search_experiments()
    return path


def copy_store(empty: Path, path: Path) -> Path:
    """A copy of an empty store: creating one runs MLflow's migrations (seconds)."""
    shutil.copy(empty, path)
    return path


def log_runs(
    uri: str, runs: Mapping[str, tuple[Scalars, Mapping[str, object]]], experiment="ladder"
) -> None:
    """Each run as an MLflow run of a new ``experiment``: metrics with steps and distinct
    timestamps in the order given, params as MLflow stores them (text)."""
    with quiet_mlflow():
        _log_runs(uri, runs, experiment)


def _log_runs(uri: str, runs, name: str) -> None:
    from mlflow.entities import Metric, Param

    client = mlflow_client(uri)
    experiment = client.create_experiment(name)
    for i, (name, (scalars, params)) in enumerate(runs.items()):
        run = client.create_run(experiment, run_name=name, start_time=1_000_000 + i)
        metrics = [
            Metric(tag, value, 1_000_000 + i, step)
            for i, (tag, step, value) in enumerate(
                (tag, step, value) for tag, points in scalars.items() for step, value in points
            )
        ]
        for start in range(0, len(metrics), 1000):  # MLflow's batch limit
            client.log_batch(run.info.run_id, metrics=metrics[start : start + 1000])
        client.log_batch(run.info.run_id, params=[Param(k, str(v)) for k, v in params.items()])
        client.set_terminated(run.info.run_id)
