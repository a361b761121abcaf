"""Atomic file writes: a reader, a crash or Ctrl-C never sees a partial file.

The text goes to a file with no name yet (Linux ``O_TMPFILE``; elsewhere a hidden temporary
file in the target's directory), is flushed to disk (``fsync``), and only then gets the
target's name: by ``os.link`` when the target must not exist (so a file created meanwhile is
never replaced), by ``os.replace`` otherwise.  Either way the target holds the old content or
the whole new one.  Killed by SIGKILL while writing, an unnamed file simply vanishes.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path


def write_text_atomic(path: str | os.PathLike, text: str, *, overwrite: bool = False) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically.

    Parameters
    ----------
    path
        The file to write; its directory must exist.
    text
        The whole content.
    overwrite
        Replace an existing file (atomically); otherwise an existing file raises.

    Raises
    ------
    FileExistsError
        ``path`` exists and ``overwrite`` is False (the file is left untouched).
    OSError
        The directory is missing or not writable, the disk is full, ...
    """
    target = Path(path)
    directory = target.parent if str(target.parent) else Path(".")
    data = text.encode("utf-8")
    if not overwrite and target.exists():
        raise FileExistsError(17, "File exists", str(target))
    fd = _unnamed_file(directory)
    if fd is None or not _write_unnamed(fd, data, target, overwrite):
        _write_named(directory, data, target, overwrite)


def _unnamed_file(directory: Path) -> int | None:
    flag = getattr(os, "O_TMPFILE", None)
    if flag is None:
        return None
    try:
        return os.open(directory, flag | os.O_WRONLY, 0o644)
    except OSError:  # a file system without O_TMPFILE support: fall back to a named file
        return None


def _write_unnamed(fd: int, data: bytes, target: Path, overwrite: bool) -> bool:
    """Write and name an O_TMPFILE file; False when the system cannot give it a name."""
    try:
        _write_all(fd, data)
        source = f"/proc/self/fd/{fd}"
        temporary = target if not overwrite else _free_name(target)
        try:
            os.link(source, temporary, follow_symlinks=True)  # FileExistsError if it appeared
        except FileExistsError:
            raise
        except OSError:  # no /proc, or a sandbox that cannot link it: use a named file
            return False
        if overwrite:
            try:
                os.replace(temporary, target)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(temporary)
                raise
    finally:
        os.close(fd)
    _sync_directory(target.parent)
    return True


def _write_named(directory: Path, data: bytes, target: Path, overwrite: bool) -> None:
    fd, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=directory)
    try:
        try:
            _write_all(fd, data)
        finally:
            os.close(fd)
        os.chmod(temporary, 0o644)
        if overwrite:
            os.replace(temporary, target)
        else:
            os.link(temporary, target)
    finally:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
    _sync_directory(target.parent)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]
    os.fsync(fd)


def _free_name(target: Path) -> Path:
    return target.with_name(f".{target.name}.{os.getpid()}.{os.urandom(4).hex()}.tmp")


def _sync_directory(directory: Path) -> None:
    """Make the new name itself durable (best effort: not every platform can open a dir)."""
    with contextlib.suppress(OSError):
        fd = os.open(directory if str(directory) else ".", os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
