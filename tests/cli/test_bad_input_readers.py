"""Bad input files for the readers (:mod:`scaling_fit.inputs`), through the real CLI.

Compressed files that are corrupt or cut short, a zip holding two files and numbers too big
for a float must each end in one ``scaling-fit: error:`` line naming the file and what to do
(exit 2), never a traceback from zlib, pandas or the float conversion.  Same style as
``tests/cli/test_bad_input_corpus.py``: a name, the files written, the command, the exit code
and words of the line.
"""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import tarfile
import zipfile

import pytest

from scaling_fit.cli.main import main

GOOD = (
    "\n".join(
        ["n_params,tokens,loss"]
        + [
            f"{n:g},{d:g},{1.7 + 400 / n**0.34 + 410 / d**0.28:.6f}"
            for n in (1e8, 3e8, 1e9, 3e9, 1e10)
            for d in (2e9, 6e9, 2e10, 6e10)
        ]
    )
    + "\n"
)
GZIPPED = gzip.compress(GOOD.encode())


def zipped(*names: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in names:
            archive.writestr(name, GOOD)
    return buffer.getvalue()


def tarred(*names: str) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name in names:
            info = tarfile.TarInfo(name)
            info.size = len(GOOD)
            archive.addfile(info, io.BytesIO(GOOD.encode()))
    return buffer.getvalue()


def corrupt(data: bytes) -> bytes:
    """The compressed stream with bytes in its middle overwritten (the header stays)."""
    middle = len(data) // 2
    return data[:middle] + b"\xff" * 16 + data[middle + 16 :]


BIG = "1" + "0" * 400  # an integer no float holds (1e400)
FIT = ["fit", "runs", "--law", "chinchilla"]
CURVE_FIT = ["fit", "runs", "--law", "lr_annealing", "--schedule", "constant:peak=1e-3,total=100"]
# name, files {name: bytes or text}, argv (runs = the first file), exit code, words
# fmt: off
CASES = [
    ("gzip good", {"runs.csv.gz": GZIPPED}, 0, None),
    ("zip of one good", {"runs.zip": zipped("runs.csv")}, 0, None),
    ("gzip truncated", {"runs.csv.gz": GZIPPED[: len(GZIPPED) // 2]}, 2,
     ["runs.csv.gz", "compressed", "cut short", "again"]),
    ("gzip corrupt", {"runs.csv.gz": corrupt(GZIPPED)}, 2, ["runs.csv.gz", "compressed"]),
    ("gzip header only", {"runs.csv.gz": GZIPPED[:10]}, 2, ["runs.csv.gz", "compressed"]),
    ("not gzip at all", {"runs.csv.gz": GOOD.encode()}, 2, ["runs.csv.gz", "gzip"]),
    ("bz2 corrupt", {"runs.csv.bz2": corrupt(bz2.compress(GOOD.encode()))}, 2,
     ["runs.csv.bz2", "compressed"]),
    ("xz truncated", {"runs.csv.xz": lzma.compress(GOOD.encode())[:60]}, 2,
     ["runs.csv.xz", "compressed"]),
    ("zip of two", {"runs.zip": zipped("a.csv", "b.csv")}, 2,
     ["runs.zip", "2 files", "a.csv", "one"]),
    ("zip of none", {"runs.zip": zipped()}, 2, ["runs.zip", "no file"]),
    ("zip corrupt", {"runs.zip": zipped("runs.csv")[:40]}, 2, ["runs.zip", "zip"]),
    ("tar of two", {"runs.tar.gz": tarred("a.csv", "b.csv")}, 2,
     ["runs.tar.gz", "2 files", "a.csv", "one"]),
    ("tar cut short", {"runs.tar.gz": tarred("runs.csv")[:50]}, 2,
     ["runs.tar.gz", "compressed", "cut short"]),
    ("zstandard", {"runs.csv.zst": b"(\xb5/\xfd" + b"\x00" * 20}, 2, ["runs.csv.zst"]),
    ("jsonl with a byte-order mark",
     {"runs.jsonl": "\ufeff" + "".join(
         f'{{"step": {s}, "loss": {2 + 30 / s**0.5:.4f}}}\n' for s in range(10, 101, 10))},
     0, None),
    ("jsonl not utf-8", {"runs.jsonl": b'{"step": 10, "loss": 3.0, "note": "caf\xe9"}\n'}, 2,
     ["runs.jsonl", "not utf-8", "save the file as utf-8"]),
    ("integer beyond float, csv", {"runs.csv": GOOD.replace("1e+08,2e+09", f"{BIG},2e+09")},
     2, ["runs.csv", "n_params", "finite"]),
    ("integer beyond float, jsonl",
     {"runs.jsonl": '{"step": 10, "loss": 3.1}\n{"step": ' + BIG + ', "loss": 3.0}\n'},
     2, ["runs.jsonl", "line 2", "too large"]),
    ("integer beyond float in a text column, jsonl",
     {"runs.jsonl": '{"step": 10, "loss": 3.1, "seed": ' + BIG + '}\n'
                    '{"step": 20, "loss": 3.0, "seed": 1}\n'},
     2, ["runs.jsonl", "line 1", "too large"]),
    ("jsonl nested thousands deep",
     {"runs.jsonl": '{"step": 10, "loss": ' + "[" * 100_000 + "]" * 100_000 + "}\n"}, 2,
     ["runs.jsonl", "line 1", "nested too deep"]),
    ("gzipped jsonl good",
     {"runs.jsonl.gz": gzip.compress("".join(
         f'{{"step": {s}, "loss": {2 + 30 / s**0.5:.4f}}}\n' for s in range(10, 101, 10)
     ).encode())}, 0, None),
    ("gzipped jsonl truncated",
     {"runs.jsonl.gz": gzip.compress(b'{"step": 10, "loss": 3.1}\n' * 50)[:30]}, 2,
     ["runs.jsonl.gz", "compressed"]),
]
# fmt: on


@pytest.mark.parametrize(
    ("files", "code", "words"), [pytest.param(*case[1:], id=case[0]) for case in CASES]
)
def test_bad_reader_input(capsys, tmp_path, monkeypatch, files, code, words) -> None:
    monkeypatch.chdir(tmp_path)
    for name, content in files.items():
        path = tmp_path / name
        path.write_bytes(content) if isinstance(content, bytes) else path.write_text(content)
    command = CURVE_FIT if ".jsonl" in next(iter(files)) else FIT
    argv = [next(iter(files)) if a == "runs" else a for a in command]
    found = main(argv)
    _, err = capsys.readouterr()
    assert "Traceback" not in err
    assert found == code, err
    if words is None:
        return
    assert err.count("\n") == 1 and err.startswith("scaling-fit: error: "), err
    for word in words:
        assert word.lower() in err.lower(), (word, err)


def test_integer_beyond_float_in_a_dataframe() -> None:
    """Python ints no float holds, handed over in a DataFrame: a DataError, not OverflowError."""
    import pandas as pd

    import scaling_fit as sf

    frame = pd.DataFrame(
        {
            "n_params": pd.Series([10**400, 3e8, 1e9], dtype=object),  # as pandas 2.0 keeps it
            "tokens": [2e9, 6e9, 2e10],
            "loss": [3.0, 2.9, 2.8],
        }
    )
    with pytest.raises(sf.DataError, match=r"index 0, column 'n_params'.*too large for a float"):
        sf.load_runs(frame)
    with pytest.raises(sf.DataError, match=r"column 'n_params' holds an integer too large"):
        sf.fit(frame, "chinchilla")
