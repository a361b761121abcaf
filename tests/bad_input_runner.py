"""Run one bad-input case through the real CLI (in-process), as tests/cli/test_bad_input_corpus.py.

Shared by the per-command corpora (``tests/test_bad_input_<command>.py``): a case is the
files it writes, the command line, the exit code and words of the line a user reads, the
one ``scaling-fit: error: …`` line (exit 2: the only line on stderr, no traceback) or, for a
usable input (exit 0), the ``warning: …`` line it earns.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from scaling_fit.cli.main import main


def run_case(
    capsys: pytest.CaptureFixture[str],
    folder: Path,
    files: dict[str, str | bytes],
    argv: list[object],
    code: int,
    words: list[str] | None,
    *,
    warning_on_stdout: bool = False,
) -> None:
    """Write ``files`` into ``folder`` (the working directory), run ``argv``, check it.

    ``warning_on_stdout``: the command prints its warnings with its text result (``fit``'s
    summary, ``hparams``' report), so a usable input's warning line may be on either stream.
    """
    for name, content in files.items():
        path = folder / name
        path.write_bytes(content) if isinstance(content, bytes) else path.write_text(content)
    found = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    assert found == code, err
    assert "Traceback" not in err
    if words is None:
        return
    if code == 0:  # a usable input: the warning line says what is suspicious
        lines = (out + err if warning_on_stdout else err).splitlines()
        line = next((x for x in lines if all(w in x.lower() for w in words)), None)
        assert line is not None, (words, out, err)
        return
    errors = [x for x in err.splitlines() if x.startswith("scaling-fit: error: ")]
    assert len(errors) == 1, err
    if code == 2:  # bad input: the error is the only line, and nothing is written
        assert err.splitlines() == errors, err
        assert out == ""
    for word in words:
        assert word.lower() in errors[0].lower(), (word, errors[0])
