"""Output files of the CLI: checked before any work, written atomically, inputs never replaced.

``-o FILE`` is checked up front (:func:`check_output`): it must be a regular file or a new
path in an existing, writable directory (a device, FIFO, socket or directory is refused; a
symlink is followed to its target), it must not exist unless ``--force``, and it must never be
one of the command's input files, ``--force`` or not.  The text is then written atomically by
the package's one writer (:mod:`scaling_fit.results.atomic`, the output contract).
"""

from __future__ import annotations

import argparse
import glob
import os
import sys
from collections.abc import Iterable

from ..errors import OutputExistsError
from ..errors import OutputPathError as OutputPathError  # re-exported: exit code 2
from ..results.atomic import check_target, write_text_atomic


def check_output(path: str | None, force: bool, inputs: Iterable[str] = ()) -> None:
    """Refuse a bad ``-o`` path before any slow work.

    Raises :class:`OutputPathError` for a target that is not a regular file or a new path
    (device, FIFO, socket, directory) or a missing or unwritable directory, and
    :class:`OutputExistsError` for an existing file without ``force`` or for any of
    ``inputs`` (paths or glob patterns), even with ``force``.
    """
    if path is None:
        return
    for source in _expand(inputs):
        if _same_file(path, source):
            raise OutputExistsError(
                f"-o {path!r} is the input file {source!r}; refusing to overwrite an input "
                "(even with --force): write to another file"
            )
    check_target(path, overwrite=force, flag="-o")


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
    except FileExistsError:  # created since check_output
        raise OutputExistsError(f"-o {path!r} exists; pass --force to overwrite it") from None


def _expand(inputs: Iterable[str]) -> list[str]:
    found: list[str] = []
    for item in inputs:
        item = os.fspath(item).removeprefix("sqlite:///")  # an MLflow store's URI: its file
        found += sorted(glob.glob(item)) if glob.has_magic(item) else [item]
    return found


def _same_file(a: str, b: str) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:  # one of them does not exist (yet)
        return os.path.realpath(a) == os.path.realpath(b)
