"""Output files of the CLI: checked before any work, written atomically, inputs never replaced.

``-o FILE`` is checked up front (:func:`check_output`): its directory must exist and be
writable, the file must not exist unless ``--force``, and it must never be one of the
command's input files, ``--force`` or not.  The text is then written atomically
(:func:`scaling_fit.results.atomic.write_text_atomic`): killed or interrupted mid-write, the
old file stays whole and no partial or empty file is left.
"""

from __future__ import annotations

import argparse
import glob
import os
import sys
from collections.abc import Iterable

from ..errors import OutputExistsError, ScalingFitError
from ..results.atomic import write_text_atomic


class OutputPathError(ScalingFitError, ValueError):
    """The ``-o`` path cannot be written (exit code 2)."""


def check_output(path: str | None, force: bool, inputs: Iterable[str] = ()) -> None:
    """Refuse a bad ``-o`` path before any slow work.

    Raises :class:`OutputPathError` for a missing or unwritable directory or a directory given
    as the file, and :class:`OutputExistsError` for an existing file without ``force`` or for
    any of ``inputs`` (paths or glob patterns), even with ``force``.
    """
    if path is None:
        return
    directory = os.path.dirname(path) or "."
    if not os.path.isdir(directory):
        raise OutputPathError(
            f"output directory {directory!r} of -o {path!r} does not exist; create it first "
            "or choose another path"
        )
    if not os.access(directory, os.W_OK | os.X_OK):
        raise OutputPathError(f"output directory {directory!r} of -o {path!r} is not writable")
    if os.path.isdir(path):
        raise OutputPathError(f"-o {path!r} is a directory; expected a file name")
    for source in _expand(inputs):
        if _same_file(path, source):
            raise OutputExistsError(
                f"-o {path!r} is the input file {source!r}; refusing to overwrite an input "
                "(even with --force): write to another file"
            )
    if os.path.lexists(path) and not force:
        raise OutputExistsError(f"output file {path!r} exists; pass --force to overwrite it")


def input_paths(args: argparse.Namespace, *names: str) -> list[str]:
    """The input files a command was given in ``args``' attributes ``names`` (each a path, a
    list of paths or globs, or None when the option was left out), for :func:`check_output`."""
    paths: list[str] = []
    for name in names:
        value = getattr(args, name, None)
        if value is not None:
            paths += [value] if isinstance(value, str | os.PathLike) else list(value)
    return paths


def write(text: str, path: str | None, force: bool) -> None:
    """Write ``text`` to stdout, or atomically to ``path`` (replacing it only with ``force``)."""
    if path is None:
        sys.stdout.write(text)
        return
    try:
        write_text_atomic(path, text, overwrite=force)
    except FileExistsError:
        raise OutputExistsError(
            f"output file {path!r} exists; pass --force to overwrite it"
        ) from None


def _expand(inputs: Iterable[str]) -> list[str]:
    found: list[str] = []
    for item in inputs:
        item = os.fspath(item)
        found += sorted(glob.glob(item)) if glob.has_magic(item) else [item]
    return found


def _same_file(a: str, b: str) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:  # one of them does not exist (yet)
        return os.path.realpath(a) == os.path.realpath(b)
