"""TensorBoard event files (``events.out.tfevents.*``) read where a training job wrote them.

PyTorch's ``SummaryWriter``, Lightning, Hugging Face's Trainer, Keras and JAX/Flax
``metric_writers`` write them.  A log directory holds one run per directory with event
files, named by its path below the directory given (TensorBoard's own convention), or is
one run itself (named after its folder); a run's files are read in the order they were
started (the time stamp in their names), so a restarted job's file comes after the first.

Each file is a sequence of TFRecords (8-byte length, its masked CRC-32C, the serialised
``Event``, its masked CRC-32C); every record's checksums are checked (google-crc32c, a C
implementation: TensorBoard's own stub reader checks them in pure Python, 3x slower here,
and stops silently at the first bad record), and each record is parsed by the
``tensorboard`` package's own ``Event`` protobuf class.  A record that fails its checksum is
dropped and reading goes on after it; a file cut short (a job killed mid-write) is read up
to its last whole record; a warning says how many records were dropped.  Scalars are
``simple_value`` (PyTorch, TF1) or one-element tensors (TF2, ``tensorboard.summary.Writer``);
TensorBoard hparams (the ``hparams`` plugin's session start) are the run-level values.
"""

from __future__ import annotations

import functools
import os
import re
import struct
import warnings
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import DataError, ScalingFitWarning
from .store_runs import Canonical, check_same_tags, columns_used, require, run_table, wanted

EXTRA = "tensorboard"
HEADER = struct.Struct("<QI")  # record length, masked CRC-32C of the length
CRC = struct.Struct("<I")
MASK_DELTA = 0xA282EAD8  # TFRecord's masked CRC: rotated right by 15 bits, plus this
STARTED = re.compile(r"tfevents\.(\d+)")  # events.out.tfevents.<unix time>.<host>...
DT_FLOAT, DT_DOUBLE = 1, 2  # TensorProto dtypes of the scalars writers write


def is_event_file(path: str) -> bool:
    """A TensorBoard event file, by name (TensorBoard's own test: ``tfevents`` in it)."""
    return "tfevents" in os.path.basename(path)


def has_event_files(root: str) -> bool:
    """Whether any event file lies in the directory ``root`` or below."""
    return any(is_event_file(f) for _, _, files in os.walk(root) for f in files)


def event_dirs(root: str) -> dict[str, list[str]]:
    """Run name → its event files (in the order written) under the directory ``root``."""
    runs: dict[str, list[str]] = {}
    for folder, dirs, files in os.walk(root):
        dirs.sort()
        events = [os.path.join(folder, f) for f in files if is_event_file(f)]
        if events:
            relative = Path(os.path.relpath(folder, root)).as_posix()
            name = Path(os.path.abspath(folder)).name if relative == "." else relative
            runs[name] = sorted(events, key=_started)
    return runs


def _started(path: str) -> tuple[int, str]:
    match = STARTED.search(os.path.basename(path))
    return (int(match.group(1)) if match else 0, os.path.basename(path))


def read_log_dir(
    path: str, columns: Mapping[str, str], canonical: Canonical
) -> list[tuple[str, Any, list[str]]]:
    """A log directory (or one event file) → sources ``(name, table, files)``, one per run.

    Raises
    ------
    DataError
        If no run has a scalar that reads as the loss or a mapped tag is missing (listing
        the tags it has), or two runs read one column from different tags.
    MissingExtraError
        Without the ``tensorboard`` extra.
    """
    if os.path.isdir(path):
        runs = event_dirs(path)
    else:
        runs = {Path(os.path.abspath(path)).parent.name or "run": [path]}
    event_pb2 = require("tensorboard.compat.proto.event_pb2", EXTRA, "TensorBoard event files")
    crc = require("google_crc32c", EXTRA, "TensorBoard event files")
    sources, used = [], []
    mapped = set(columns.values())
    keep = functools.cache(lambda tag: tag in mapped or wanted(tag, canonical) is not None)
    for run, files in runs.items():
        name = f"run {run!r} (TensorBoard {_where(path, files)})"
        series, hparams, damaged = _read_run(files, event_pb2.Event, crc.value, keep)
        try:
            table, repeated = run_table(run, name, series, hparams, columns, canonical)
        except DataError as exc:  # with what a damaged file lost: it may be why
            raise DataError("; ".join([str(exc), *damaged])) from None
        for note in damaged:
            warnings.warn(note, ScalingFitWarning, stacklevel=3)
        if repeated:
            warnings.warn(
                f"{name}: {repeated} steps were logged more than once (a restarted run); "
                "the later write of each is kept",
                ScalingFitWarning,
                stacklevel=4,
            )
        sources.append((name, table, files))
        used.append((name, columns_used(series, canonical)))
    check_same_tags(used)
    return sources


def _where(path: str, files: list[str]) -> str:
    return files[0] if len(files) == 1 else os.path.dirname(files[0]) or path


def _read_run(
    files: list[str], event: Any, crc: Any, keep: Callable[[str], bool]
) -> tuple[dict[str, tuple[np.ndarray, np.ndarray]], dict[str, Any], list[str]]:
    """Scalars (tag → steps, values in write order; a tag not ``keep(tag)``: only named,
    with no points) and hparams of one run's files, and a note per damaged file."""
    points: dict[str, tuple[list[int], list[float]] | None] = {}
    hparams: dict[str, Any] = {}
    damaged = []
    for path in files:
        records, dropped, why = read_records(path, crc)
        dropped += _scan(records, event.FromString, points, hparams, keep)
        if dropped or why:
            damaged.append(_dropped(path, len(records), dropped, why))
    empty = (np.zeros(0, np.int64), np.zeros(0))
    series = {
        tag: empty if p is None else (np.array(p[0], np.int64), np.array(p[1], float))
        for tag, p in points.items()
    }
    return series, hparams, damaged


def _scan(
    records: list[bytes],
    parse: Callable[[bytes], Any],
    points: dict[str, tuple[list[int], list[float]] | None],
    hparams: dict[str, Any],
    keep: Callable[[str], bool],
) -> int:
    """Add the scalars of ``records`` to ``points`` (and hparams); the records that did not
    parse.  One pass, the hot loop of the reader: TF1 ``simple_value`` and TF2 one-float
    tensors are read inline, anything else through :func:`_tensor_scalar`."""
    failed = 0
    for record in records:
        try:
            event = parse(record)
        except Exception:  # protobuf's DecodeError: a record whose checksums held
            failed += 1
            continue
        step = event.step
        for value in event.summary.value:
            kind = value.WhichOneof("value")
            if kind == "simple_value":
                number = value.simple_value
            elif kind != "tensor":
                continue
            else:
                tensor = value.tensor
                if tensor.dtype == DT_FLOAT and len(tensor.float_val) == 1:
                    number = tensor.float_val[0]
                elif value.metadata.plugin_data.plugin_name == "hparams":
                    hparams.update(_hparams(value.metadata.plugin_data.content))
                    continue
                elif (number := _tensor_scalar(tensor)) is None:
                    continue
            tag = value.tag
            if tag not in points:
                points[tag] = ([], []) if keep(tag) else None
            kept = points[tag]
            if kept is not None:
                kept[0].append(step)
                kept[1].append(number)
    return failed


def _tensor_scalar(tensor: Any) -> float | None:
    """The number a one-element float tensor holds (TF2 scalars), else None (images,
    histograms, text: not scalars)."""
    if tensor.dtype == DT_FLOAT and len(tensor.float_val) == 1:
        return tensor.float_val[0]
    if tensor.dtype == DT_DOUBLE and len(tensor.double_val) == 1:
        return tensor.double_val[0]
    if tensor.dtype in (DT_FLOAT, DT_DOUBLE) and tensor.tensor_content:
        dtype = "<f4" if tensor.dtype == DT_FLOAT else "<f8"
        content = np.frombuffer(tensor.tensor_content, dtype=dtype)
        return float(content[0]) if content.size == 1 else None
    return None


def _hparams(content: bytes) -> dict[str, Any]:
    """The hparams of a session start (the ``hparams`` plugin's data), as numbers or text."""
    plugin = require("tensorboard.plugins.hparams.plugin_data_pb2", EXTRA, "TensorBoard hparams")
    try:
        data = plugin.HParamsPluginData.FromString(content)
    except Exception:  # protobuf's DecodeError: not hparams after all
        return {}
    if not data.HasField("session_start_info"):
        return {}
    found = {}
    for key, value in data.session_start_info.hparams.items():
        kind = value.WhichOneof("kind")
        if kind in ("number_value", "string_value", "bool_value"):
            found[key] = getattr(value, kind)
    return found


def read_records(path: str, crc: Any) -> tuple[list[bytes], int, str]:
    """The intact records of an event file; how many were dropped, and why the file's end
    could not be read (empty when it could).

    A record whose data fails its checksum is dropped and the next one read; a length that
    fails its checksum leaves no way to find the next record, so the rest is not read.
    """
    with open(path, "rb") as handle:
        data = handle.read()
    records, dropped, position, size = [], 0, 0, len(data)
    header, checksum, keep = HEADER.unpack_from, CRC.unpack_from, records.append  # hot loop
    while position < size:
        if size - position < 12:  # the length and its checksum
            return records, dropped + 1, f"the last record is cut short at byte {position}"
        length, length_crc = header(data, position)
        c = crc(data[position : position + 8])  # masked inline, as TFRecord masks it
        if (((c >> 15) | (c << 17)) + MASK_DELTA) & 0xFFFFFFFF != length_crc:
            return records, dropped, f"bytes {position}-{size} fail their checksum"
        end = position + 12 + length
        if end + 4 > size:
            return records, dropped + 1, f"the last record is cut short at byte {position}"
        record = data[position + 12 : end]
        c = crc(record)
        if (((c >> 15) | (c << 17)) + MASK_DELTA) & 0xFFFFFFFF == checksum(data, end)[0]:
            keep(record)
        else:
            dropped += 1
        position = end + 4
    return records, dropped, ""


def _dropped(path: str, read: int, dropped: int, why: str) -> str:
    """What a damaged file lost, for a warning (or an error it may explain)."""
    reason = f" ({why}: a job killed mid-write, or a damaged file)" if why else ""
    lost = f"dropped {dropped} record{'s' * (dropped != 1)}" if dropped else "dropped the rest"
    return f"{path}: read {read} intact records, {lost}{reason}"
