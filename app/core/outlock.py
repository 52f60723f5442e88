"""One batch at a time in an output folder: a lock file naming its holder, and the run's journal.

`.corroscope.lock` holds a header line (pid, host, start time, the run's random token) and then one
line per photo about to be written (its source, model, mode and file names). The lock itself is the
kernel's (`flock`, released when the holder dies, even by kill -9), so a dead run's file is taken over
by the next one, which then:
- removes the temp files of runs that are over, and only those: their names carry a run's token, and
  while this run holds the lock no other run can be writing there;
- inherits its unfinished photos, whose files (written before their JSON record) are ours to redo.
A run also removes its own temp files when it releases the lock: a Dask worker killed mid-photo leaves
its temp files behind while the batch goes on (the photo is run again elsewhere).
Where the file system has no working `flock`, the holder's pid on this host is checked instead.
"""

from __future__ import annotations

import contextlib
import datetime
import errno
import json
import logging
import os
import re
import secrets
import socket
import weakref
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.core.errors import ExportError, OutputLockedError
from app.core.files import TEMP_SUFFIX, read_head

log = logging.getLogger(__name__)

LOCK_NAME = ".corroscope.lock"
_HEADER = "corroscope_lock"
_HELD: dict[str, OutputLock] = {}  # folder -> the lock this process holds there (its journal is open)
_WARNED: set[str] = set()  # folders whose lock file could not be written, said once
_NO_FLOCK = {errno.ENOLCK, errno.EOPNOTSUPP, errno.ENOSYS, getattr(errno, "ENOTSUP", errno.EOPNOTSUPP)}


@dataclass(frozen=True)
class Holder:
    pid: int
    host: str
    started: str
    token: str

    def describe(self) -> str:
        return f"pid {self.pid} on {self.host}, started {self.started}"


@dataclass(frozen=True)
class Pending:
    """A photo a run was writing: files of it without its record are that run's, for that model."""

    source: str
    model_sha256: str
    mode: str
    files: tuple[str, ...]


class OutputLock:
    """The lock on one output folder, held from planning to the CSV; `release` when done."""

    def __init__(self, folder: Path, fd: int, holder: Holder, inherited: tuple[Pending, ...]) -> None:
        self.folder, self.holder, self.inherited = folder, holder, inherited
        self._fd: int | None = fd
        self._closer = weakref.finalize(self, _close_quietly, fd)

    @property
    def token(self) -> str:
        return self.holder.token

    @classmethod
    def acquire(cls, folder: Path) -> OutputLock:
        """Take the folder's lock, or raise `OutputLockedError` naming the run that holds it."""
        path = Path(folder) / LOCK_NAME
        for _attempt in range(10):
            fd = _open_lock_file(path)
            previous = _read_all(fd)
            if not _try_lock(fd, previous):
                os.close(fd)
                raise OutputLockedError(_held_message(folder, _parse(previous)[0]))
            if _same_file(fd, path):
                break
            os.close(fd)  # released and removed by its holder meanwhile: lock the new file instead
        else:
            raise OutputLockedError(f"Cannot lock the output folder {folder}: the lock file keeps changing")
        old, pending = _parse(previous)
        holder = Holder(os.getpid(), socket.gethostname(), _now(), secrets.token_hex(8))
        try:
            if old is not None:
                log.info("taking over the lock of a run that ended without releasing it (%s)", old.describe())
            _remove_temp_files(Path(folder), lambda token: token != holder.token)
            inherited = tuple(p for p in pending if _unfinished(Path(folder), p))
            lines = [_header_line(holder), *(_pending_line(p) for p in inherited)]
            _rewrite(fd, "".join(lines))
        except OSError as exc:
            if not previous:  # made empty by this call (a full disk): nothing of it is left behind
                with contextlib.suppress(OSError):
                    if _same_file(fd, path):
                        path.unlink()
            os.close(fd)
            full = " (the disk of the output folder is full)" if exc.errno == errno.ENOSPC else ""
            raise ExportError(f"Cannot write the lock file {path}: {exc.strerror or exc}{full}") from exc
        lock = cls(Path(folder), fd, holder, inherited)
        _HELD[os.path.realpath(folder)] = lock
        return lock

    def inherited_files(self, source: str) -> dict[str, Pending]:
        """File name -> the unfinished photo of a dead run that wrote it, for the photo `source`."""
        return {name: p for p in self.inherited if p.source == source for name in p.files}

    def release(self) -> None:
        """Unlock; remove the lock file unless photos of a dead run are still unfinished (then it stays,
        naming them, for the next run). Only a file that is still ours is touched; safe to call twice."""
        if self._fd is None:
            return
        path = self.folder / LOCK_NAME
        if _HELD.get(os.path.realpath(self.folder)) is self:
            del _HELD[os.path.realpath(self.folder)]
        with contextlib.suppress(OSError):
            if _same_file(self._fd, path):
                # while the lock is still ours: a killed worker's temp files of this run
                _remove_temp_files(self.folder, lambda token: token == self.token)
                left = tuple(p for p in self.inherited if _unfinished(self.folder, p))
                if left:
                    _rewrite(
                        self._fd, _header_line(self.holder, released=True) + "".join(map(_pending_line, left))
                    )
                else:
                    path.unlink()
        self._closer()
        self._fd = None


def held_by(folder: Path, token: str) -> bool:
    """Whether the run with `token` still holds `folder`'s lock: a cluster worker's photo finished after
    its run ended (cut off, its scheduler lost) must not land in a folder released, maybe taken by another
    run. Only the lock file's first line is read (the journal after it grows with each photo)."""
    held = _HELD.get(os.path.realpath(folder))
    if held is not None and held._fd is not None:
        return held.token == token
    head = read_head(Path(folder) / LOCK_NAME, 64 * 1024, follow_links=False).split(b"\n", 1)[0]
    holder, _pending = _parse(head)
    return holder is not None and holder.token == token


def note_pending(folder: Path, pending: Pending) -> None:
    """Append a photo about to be written to the folder's journal, from any process of the run that holds
    the lock. No fsync: a kill keeps what was written; a power cut may lose it, and the photo's files then
    count as not ours, the safe side. No lock file (not planned under a lock): nothing to note."""
    line = _pending_line(pending).encode("ascii")
    held = _HELD.get(os.path.realpath(folder))
    if held is not None and held._fd is not None:  # this process holds the lock: its file is open
        _append(held._fd, line, folder)
        return
    flags = os.O_WRONLY | os.O_APPEND | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(Path(folder) / LOCK_NAME, flags)
    except OSError:
        return
    try:
        _append(fd, line, folder)
    finally:
        os.close(fd)


def _append(fd: int, line: bytes, folder: Path) -> None:
    try:
        os.lseek(fd, 0, os.SEEK_END)
        os.write(fd, line)
    except OSError as exc:
        # once a folder: on a full disk every photo fails here, and its own failure says why
        key = os.path.realpath(folder)
        level = logging.INFO if key in _WARNED else logging.WARNING
        _WARNED.add(key)
        log.log(level, "cannot write the lock file in %s: %s", folder, exc.strerror or exc)


def read_pending(folder: Path) -> tuple[Pending, ...]:
    """The unfinished photos listed in a folder's lock file, read without taking the lock."""
    try:
        text = (Path(folder) / LOCK_NAME).read_bytes()
    except OSError:
        return ()
    return tuple(p for p in _parse(text)[1] if _unfinished(Path(folder), p))


def _open_lock_file(path: Path) -> int:
    flags = os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NOFOLLOW", 0)
    try:
        return os.open(path, flags, 0o644)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise ExportError(f"{path} is a symbolic link; remove it, it is not a lock file of ours") from exc
        raise ExportError(f"Cannot create the lock file {path}: {exc.strerror or exc}") from exc


def _try_lock(fd: int, previous: bytes) -> bool:
    """True when this process now holds the lock on `fd`."""
    try:
        if os.name == "nt":
            import msvcrt

            os.lseek(fd, 1 << 30, os.SEEK_SET)  # a byte past any content, so others can still read it
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
            os.lseek(fd, 0, os.SEEK_SET)
        else:
            import fcntl

            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        return False
    except OSError as exc:
        if os.name == "nt" and exc.errno in (errno.EACCES, errno.EDEADLK):
            return False
        if exc.errno not in _NO_FLOCK:
            raise ExportError(f"Cannot lock the output folder: {exc.strerror or exc}") from exc
    holder = _parse(previous)[0]  # no kernel lock here (some network file systems): trust the pid
    return holder is None or (holder.host == socket.gethostname() and not _alive(holder.pid))


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # it exists, and belongs to someone else
    return True


def held_elsewhere(folder: Path) -> str | None:
    """What `OutputLock.acquire` would refuse with when another live run holds `folder`'s lock, else None.
    Takes nothing and changes nothing (the lock file is only read and test-locked, then let go): a check
    before the slow model load, which an `acquire` there would not be (it sweeps a dead run's files)."""
    if os.path.realpath(folder) in _HELD:
        return None  # this process's own
    flags = os.O_RDWR | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(Path(folder) / LOCK_NAME, flags)
    except OSError:
        return None  # none there (or one acquire will name the trouble of)
    try:
        previous = _read_all(fd)
        return None if _try_lock(fd, previous) else _held_message(folder, _parse(previous)[0])
    except (OSError, ExportError):
        return None
    finally:
        os.close(fd)  # a lock this test took goes with the descriptor


def _held_message(folder: Path, holder: Holder | None) -> str:
    who = holder.describe() if holder is not None else "a process that has not written its name yet"
    here = holder is not None and holder.host == socket.gethostname()
    hint = "" if here else f"; if that run is gone, remove {Path(folder) / LOCK_NAME}"
    return (
        f"Another Corroscope run is writing into {folder} ({who}); wait for it to finish, or choose "
        f"another output folder{hint}"
    )


def _same_file(fd: int, path: Path) -> bool:
    try:
        a, b = os.fstat(fd), os.stat(path, follow_symlinks=False)
    except OSError:
        return False
    return (a.st_dev, a.st_ino) == (b.st_dev, b.st_ino)


def _read_all(fd: int) -> bytes:
    os.lseek(fd, 0, os.SEEK_SET)
    chunks, total = [], 0
    while total <= 64 << 20 and (chunk := os.read(fd, 1 << 16)):  # bigger: not a lock file of ours
        chunks.append(chunk)
        total += len(chunk)
    return b"".join(chunks)


def _rewrite(fd: int, text: str) -> None:
    os.ftruncate(fd, 0)
    os.lseek(fd, 0, os.SEEK_SET)
    os.write(fd, text.encode("ascii"))


def _parse(data: bytes) -> tuple[Holder | None, list[Pending]]:
    """The holder (None if the file names none, or its run released it) and the photos it lists."""
    holder, pending, released = None, [], False
    for raw in data.decode("utf-8", "replace").splitlines():
        with contextlib.suppress(ValueError, TypeError, KeyError, AttributeError, RecursionError):
            item = json.loads(raw)
            if _HEADER in item:
                holder = Holder(int(item["pid"]), str(item["host"]), str(item["started"]), str(item["token"]))
                released = bool(item.get("released"))
            elif "pending" in item:
                p = item["pending"]
                files = tuple(str(f) for f in p["files"] if _plain_name(str(f)))
                pending.append(Pending(str(p["source"]), str(p["model_sha256"]), str(p["mode"]), files))
    return (None if released else holder), pending


def _plain_name(name: str) -> bool:
    return bool(name) and name not in (".", "..") and "/" not in name and "\\" not in name


def _unfinished(folder: Path, p: Pending) -> bool:
    """Its record (the last file, written last) is missing while another of its files is there."""
    return (
        bool(p.files)
        and not (folder / p.files[-1]).exists()
        and any(os.path.lexists(folder / f) for f in p.files[:-1])
    )


# `.<name>.<token>.<random>.part`, as `files.atomic_write` names a batch's temp files (mkstemp's random part)
_TEMP_NAME = re.compile(r"\..+\.([0-9a-f]{16})\.[a-z0-9_]{8}" + re.escape(TEMP_SUFFIX))


def _remove_temp_files(folder: Path, whose: Callable[[str], bool]) -> None:
    """Remove the batch temp files in `folder` whose run token `whose` picks. A temp file of ours
    carries its run's token; other `.part` files (a user's, an untagged save of the window) stay."""
    try:
        names = [e.name for e in os.scandir(folder) if e.name.endswith(TEMP_SUFFIX)]
    except OSError as exc:
        log.info("cannot list %s: %s", folder, exc)
        return
    for name in names:
        match = _TEMP_NAME.fullmatch(name)
        if match is None or not whose(match.group(1)):
            continue
        try:
            (folder / name).unlink()
        except FileNotFoundError:
            pass
        except OSError as exc:
            log.info("cannot remove %s: %s", folder / name, exc)


def _header_line(h: Holder, released: bool = False) -> str:
    data = {_HEADER: 1, "pid": h.pid, "host": h.host, "started": h.started, "token": h.token}
    if released:
        data["released"] = True
    return json.dumps(data, ensure_ascii=True) + "\n"


def _pending_line(p: Pending) -> str:
    data: Mapping[str, Any] = {
        "source": p.source,
        "model_sha256": p.model_sha256,
        "mode": p.mode,
        "files": list(p.files),
    }
    return json.dumps({"pending": data}, ensure_ascii=True) + "\n"


def _now() -> str:
    return datetime.datetime.now().astimezone().isoformat(timespec="seconds")


def _close_quietly(fd: int) -> None:
    with contextlib.suppress(OSError):
        os.close(fd)


def names(entries: Iterable[Pending]) -> set[str]:
    return {f for p in entries for f in p.files}
