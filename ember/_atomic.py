"""Atomic file writes whose temporaries a killed process cannot leave behind for good.

A write goes to ``.<name>.<pid>.tmp`` beside the target, is flushed and fsync'ed, then renamed
over the target with ``os.replace``, so readers see the old file or the new one, never half of
one. A process killed between the two (``kill -9``, power loss, OOM killer) leaves its temporary
behind; since the name carries the writer's pid, the next write to the same target removes
every temporary whose writer no longer runs.
"""

from __future__ import annotations

import os
import re

__all__ = ["atomic_write_bytes", "temporary_name", "remove_stale_temporaries"]


def _pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)  # signal 0: only checks that the process exists
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # it exists, under another user
    except OSError:
        return True  # cannot tell: keep the file
    return True


def _pattern(name: str, suffix: str) -> re.Pattern:
    return re.compile(r"\." + re.escape(name) + r"\.(\d+)(?:\.\d+)?" + re.escape(suffix) + r"\Z")


def remove_stale_temporaries(path: str | os.PathLike, suffix: str = ".tmp") -> list[str]:
    """Delete the temporaries of ``path`` left by writers that are no longer running; returns
    the paths removed. Temporaries of live processes (a concurrent write) are kept."""
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    pattern = _pattern(os.path.basename(path), suffix)
    removed = []
    try:
        entries = os.listdir(directory)
    except OSError:
        return removed
    for entry in entries:
        m = pattern.match(entry)
        if m is None or _pid_alive(int(m.group(1))):
            continue
        stale = os.path.join(directory, entry)
        try:
            os.unlink(stale)
            removed.append(stale)
        except OSError:
            pass  # removed meanwhile by another writer, or not ours to remove
    return removed


def temporary_name(path: str | os.PathLike, suffix: str = ".tmp") -> tuple[int, str]:
    """Create and open (exclusively) the temporary for ``path``: ``(fd, temp_path)``, named
    ``.<name>.<pid>.tmp`` (with a counter when this process already writes that target)."""
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    base = os.path.join(directory, f".{os.path.basename(path)}.{os.getpid()}")
    for n in range(1000):
        tmp = base + (f".{n}" if n else "") + suffix
        try:
            return os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), tmp
        except FileExistsError:
            continue
    raise FileExistsError(f"cannot create a temporary file for {path}: {base}*{suffix} all exist")


def _new_file_mode(path: str) -> int:
    try:
        return os.stat(path).st_mode & 0o777
    except OSError:
        mask = os.umask(0)
        os.umask(mask)
        return 0o666 & ~mask


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (temporary, fsync, rename, directory fsync),
    after removing temporaries that killed writers left for ``path``. On failure the old file
    is untouched and this call's temporary is removed."""
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise FileNotFoundError(f"cannot save to {path}: the directory {directory} does not exist")
    remove_stale_temporaries(path)
    mode = _new_file_mode(path)
    fd, tmp = temporary_name(path)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    try:  # make the rename itself durable; not every platform lets a directory be opened
        dir_fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dir_fd)
    except OSError:
        pass
    finally:
        os.close(dir_fd)
