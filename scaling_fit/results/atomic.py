"""The one writer of output files: only regular files, atomically, written once.

The output contract, for every file scaling_fit writes (JSON, CSV, HTML, figures):

- The target must be a regular file or a new path in an existing directory.  A device
  (``/dev/null`` included), FIFO, socket or directory is refused with
  :class:`~scaling_fit.errors.OutputPathError` before anything is written
  (:func:`check_target`; the CLI calls it before any work, so exit 2 and nothing done).
- A symlink is followed: its final target is the file written, replaced atomically, and
  the link stays a link.
- The bytes go to a file with no name yet (Linux ``O_TMPFILE``; elsewhere, or where such a
  file cannot be linked, a hidden temporary file in the target's directory), are flushed to
  disk (``fsync``), and only then get the target's name: by ``os.link`` when the target must
  not exist (a file created meanwhile is never replaced), by ``os.replace`` otherwise.
  Either way the target holds the old content or the whole new one, the bytes are written
  once, and a temporary file is removed on every exit the process controls (errors, a full
  disk, Ctrl-C, SIGTERM); killed by SIGKILL, an unnamed file simply vanishes, and a named one
  (its name carries the writer's pid) is removed by the next write to the same target.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import stat
from pathlib import Path

from ..errors import OutputExistsError, OutputPathError

_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISSOCK, "a socket"),
)
_UNLINKABLE: set[int] = set()  # devices where an O_TMPFILE file could not be given a name
_LINKABLE: set[int] = set()  # devices where it could


def check_target(path: str | os.PathLike, *, overwrite: bool = False, flag: str = "") -> Path:
    """The file that writing ``path`` would replace or create, checked; nothing is written.

    Parameters
    ----------
    path
        The output path; a symlink is followed to its final target.
    overwrite
        Whether an existing regular file may be replaced.
    flag
        How messages name the path (e.g. ``"-o"``); default "output".

    Returns
    -------
    pathlib.Path
        The resolved target (symlinks followed).

    Raises
    ------
    OutputPathError
        The target exists and is not a regular file, or its directory is missing or not
        writable.
    OutputExistsError
        The target exists and ``overwrite`` is False.
    """
    name = f"{flag or 'output'} {os.fspath(path)!r}"
    target = Path(os.path.realpath(path))
    try:
        mode = os.stat(target).st_mode
    except FileNotFoundError:
        mode = None
    except OSError as exc:
        raise OutputPathError(f"{name} cannot be checked: {exc.strerror}") from None
    if mode is not None and not stat.S_ISREG(mode):
        kind = next((text for test, text in _KINDS if test(mode)), "not a regular file")
        link = f" (a symlink to {str(target)!r})" if os.path.islink(path) else ""
        raise OutputPathError(
            f"{name}{link} is {kind}; expected a regular file or a new path (scaling_fit "
            "never replaces or writes into anything else): choose a file name"
        )
    directory = target.parent
    shown = directory if os.path.islink(path) else (os.path.dirname(os.fspath(path)) or ".")
    if not directory.is_dir():
        raise OutputPathError(
            f"output directory {str(shown)!r} of {name} does not exist; create it first "
            "or choose another path"
        )
    if not os.access(directory, os.W_OK | os.X_OK):
        raise OutputPathError(f"output directory {str(shown)!r} of {name} is not writable")
    if mode is not None and not overwrite:
        fix = (
            "pass --force to overwrite it"
            if flag
            else "pass overwrite=True (--force) to replace it"
        )
        raise OutputExistsError(f"{name} exists; {fix}")
    return target


def check_folder(folder: str | os.PathLike, flag: str = "--figures") -> Path:
    """``folder`` checked as a directory to write files into (created when missing).

    Returns
    -------
    pathlib.Path
        The folder as given.

    Raises
    ------
    OutputPathError
        ``folder`` exists and is not a directory, or it (or, when missing, its nearest
        existing parent) is not a writable directory.
    """
    path = Path(folder)
    existing = path
    while not os.path.lexists(existing) and existing != existing.parent:
        existing = existing.parent
    name = f"{flag} {os.fspath(folder)!r}"
    if not existing.is_dir():
        what = "is" if existing == path else f"is inside {str(existing)!r}, which is"
        raise OutputPathError(f"{name} {what} not a directory; expected a folder for the files")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise OutputPathError(f"{name}: the directory {str(existing)!r} is not writable")
    return path


def write_text_atomic(path: str | os.PathLike, text: str, *, overwrite: bool = False) -> None:
    """Write ``text`` (UTF-8) to ``path`` under the output contract (module docstring).

    Raises
    ------
    OutputPathError, OutputExistsError
        As :func:`check_target` (nothing written).
    OSError
        The disk is full, ... (the old file is left whole, no temporary file remains).
    """
    write_bytes_atomic(path, text.encode("utf-8"), overwrite=overwrite)


def write_bytes_atomic(path: str | os.PathLike, data: bytes, *, overwrite: bool = False) -> None:
    """Write ``data`` to ``path`` under the output contract (module docstring).

    Raises
    ------
    OutputPathError, OutputExistsError
        As :func:`check_target` (nothing written).
    OSError
        The disk is full, ... (the old file is left whole, no temporary file remains).
    """
    target = check_target(path, overwrite=overwrite)
    fd = _unnamed_file(target.parent)
    if fd is not None:
        _write_unnamed(fd, data, target, overwrite)
    else:
        _write_named(data, target, overwrite)
    _sync_directory(target.parent)


def _unnamed_file(directory: Path) -> int | None:
    """An O_TMPFILE descriptor in ``directory``, or None where one could not be named."""
    flag = getattr(os, "O_TMPFILE", None)
    if flag is None or not os.path.isdir("/proc/self/fd"):
        return None
    try:
        if not _can_name(directory, flag):
            return None
        return os.open(directory, flag | os.O_WRONLY, 0o644)
    except OSError:  # a file system without O_TMPFILE support: use a named file
        return None


def _can_name(directory: Path, flag: int) -> bool:
    """Whether an unnamed file in ``directory`` can be given a name (linked); probed once per
    file system with an empty throwaway file, before any byte is written, so that where hard
    links are unavailable (EXDEV, EPERM, a sandboxed ``/proc``) the bytes go once to a named
    file instead of twice."""
    device = os.stat(directory).st_dev
    if device in _UNLINKABLE or device in _LINKABLE:
        return device in _LINKABLE
    probe_fd = os.open(directory, flag | os.O_WRONLY, 0o644)
    probe = _free_name(directory / "probe")
    try:
        os.link(f"/proc/self/fd/{probe_fd}", probe, follow_symlinks=True)
    except OSError:
        _UNLINKABLE.add(device)
        return False
    finally:
        os.close(probe_fd)
    os.unlink(probe)
    _LINKABLE.add(device)
    return True


def _write_unnamed(fd: int, data: bytes, target: Path, overwrite: bool) -> None:
    """Write the O_TMPFILE file ``fd`` and give it the target's name."""
    try:
        _write_all(fd, data)
        os.fchmod(fd, 0o644)
        source = f"/proc/self/fd/{fd}"
        if not overwrite:
            os.link(source, target, follow_symlinks=True)  # FileExistsError if it appeared
            return
        temporary = _free_name(target)
        os.link(source, temporary, follow_symlinks=True)
        try:
            os.replace(temporary, target)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise
    finally:
        os.close(fd)


def _write_named(data: bytes, target: Path, overwrite: bool) -> None:
    """Write a hidden temporary file next to ``target`` and rename it onto the target."""
    _remove_stale(target)
    temporary = _free_name(target)
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    try:
        try:
            _write_all(fd, data)
            os.fchmod(fd, 0o644)
        finally:
            os.close(fd)
        if overwrite:
            os.replace(temporary, target)
        else:
            _link_new(str(temporary), target)
    finally:
        with contextlib.suppress(OSError):
            os.unlink(temporary)


def _remove_stale(target: Path) -> None:
    """Remove the temporary files of ``target`` left by writers that were killed (SIGKILL):
    names :func:`_free_name` made whose process is gone (POSIX only)."""
    if os.name != "posix":
        return
    pattern = re.compile(rf"\.{re.escape(target.name)}\.(\d+)\.[0-9a-f]{{8}}\.tmp")
    with contextlib.suppress(OSError):
        for entry in os.scandir(target.parent):
            match = pattern.fullmatch(entry.name)
            if match and not _alive(int(match.group(1))):
                with contextlib.suppress(OSError):
                    os.unlink(entry.path)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return False
    except OSError:  # exists, owned by someone else
        return True
    return True


def _link_new(temporary: str, target: Path) -> None:
    """Name ``temporary`` ``target``, which must not exist; a rename where links fail."""
    try:
        os.link(temporary, target)
    except FileExistsError:
        raise
    except OSError as exc:
        if os.path.lexists(target):
            raise FileExistsError(errno.EEXIST, "File exists", str(target)) from exc
        os.rename(temporary, target)  # no hard links here: the one-step name without them


def _write_all(fd: int, data: bytes) -> None:
    """Write all of ``data`` to ``fd`` and flush it to disk."""
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
