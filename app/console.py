"""The command line's console, made harmless: whatever happens to stdout and stderr (a closed pipe as in
`| head -1`, a full disk as `> /dev/full`, a stream closed at start, bytes that are not UTF-8), the
batch finishes its work and its CSV. And Ctrl+C counted exactly, so twice always means "stop now"."""

from __future__ import annotations

import contextlib
import io
import os
import signal
import sys
import threading
from collections.abc import Iterator
from typing import Any


def printable(text: str) -> str:
    """`text` with a file name's bytes that are not UTF-8 (surrogate escapes) as `\\xNN`, as in the CSV."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        try:
            return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
        except UnicodeError:
            return text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text


class SafeStream(io.TextIOBase):
    """Writes to `stream` until it fails once (EPIPE, ENOSPC, EBADF, closed); then drops everything,
    and points its file descriptor at the null device so the final flush at exit is quiet too."""

    def __init__(self, stream: Any) -> None:
        super().__init__()
        self._stream = stream
        self.dead = stream is None
        self.failure: int | None = None  # the errno of the write or flush that failed (-1: no errno)

    def write(self, text: str) -> int:
        if not self.dead:
            try:
                self._stream.write(printable(text))
            except UnicodeEncodeError:  # a console that is not UTF-8
                encoding = getattr(self._stream, "encoding", None) or "ascii"
                self._write(text.encode(encoding, "backslashreplace").decode(encoding, "replace"))
            except (OSError, ValueError, AttributeError) as exc:
                self._die(exc)
        return len(text)

    def _write(self, text: str) -> None:
        try:
            self._stream.write(text)
        except (OSError, ValueError, AttributeError) as exc:
            self._die(exc)

    def flush(self) -> None:
        if not self.dead:
            try:
                self._stream.flush()
            except (OSError, ValueError, AttributeError) as exc:
                self._die(exc)

    def isatty(self) -> bool:
        try:
            return not self.dead and bool(self._stream.isatty())
        except (OSError, ValueError, AttributeError):
            return False

    def writable(self) -> bool:
        return True

    def fileno(self) -> int:
        return self._stream.fileno()

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return getattr(self._stream, "encoding", None) or "utf-8"

    def _die(self, exc: Exception) -> None:
        self.dead = True
        self.failure = getattr(exc, "errno", None) or -1
        with contextlib.suppress(Exception):
            fd = self._stream.fileno()
            null = os.open(os.devnull, os.O_WRONLY)
            os.dup2(null, fd)
            os.close(null)


def ensure_std_fds() -> None:
    """Open the null device on 0, 1 and 2 where they are closed: else the next file opened (a photo, an
    output, the lock file) takes that number, and whatever writes to "stderr" writes into it."""
    for fd in (0, 1, 2):
        try:
            os.fstat(fd)
        except OSError:
            null = os.open(os.devnull, os.O_RDWR)
            if null != fd:
                os.dup2(null, fd)
                os.close(null)


@contextlib.contextmanager
def guarded_streams() -> Iterator[None]:
    """`sys.stdout` and `sys.stderr` as `SafeStream`s inside; the originals back afterwards."""
    ensure_std_fds()
    saved = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = SafeStream(saved[0]), SafeStream(saved[1])
    try:
        yield
    finally:
        with contextlib.suppress(Exception):
            sys.stdout.flush()
            sys.stderr.flush()
        sys.stdout, sys.stderr = saved


# Asked to stop by a service manager or a container (SIGTERM: systemd, docker stop, CI time-outs) or a
# closed terminal (SIGHUP): each counts as one Ctrl+C, so the batch stops at the photo and writes its
# table. One the process ignores from the start (nohup) stays ignored.
STOP_SIGNALS = tuple(getattr(signal, n) for n in ("SIGTERM", "SIGHUP") if hasattr(signal, n))


class Interrupts:
    """Counts SIGINTs exactly, also two that arrive while one C call runs (Python's handler then runs
    once: the wake-up pipe gets a byte per signal); SIGTERM and SIGHUP count as one each. `first(signum)`
    on the first; the second raises `KeyboardInterrupt`; after `settle()` (the batch is over) further ones
    are only counted."""

    def __init__(self, first: Any) -> None:
        self._first = first
        self.count = 0
        self.settled = False
        self._read = self._write = -1
        self._previous: Any = None
        self._previous_fd = -1
        self._others: dict[int, Any] = {}  # STOP_SIGNALS handled -> their handlers before

    def __enter__(self) -> Interrupts:
        if threading.current_thread() is not threading.main_thread():
            return self
        try:  # POSIX; elsewhere each call of the handler counts one
            self._read, self._write = os.pipe()
            os.set_blocking(self._read, False)
            os.set_blocking(self._write, False)
            self._previous_fd = signal.set_wakeup_fd(self._write, warn_on_full_buffer=False)
        except (OSError, ValueError, AttributeError):
            self._close_pipe()
        self._previous = signal.signal(signal.SIGINT, self._handle)
        for sig in STOP_SIGNALS:
            with contextlib.suppress(OSError, ValueError):
                if signal.getsignal(sig) is not signal.SIG_IGN:
                    self._others[sig] = signal.signal(sig, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._previous is None:
            return
        self._drain()
        # Once Ctrl+C was pressed the process is on its way out: one more must not become a traceback.
        signal.signal(signal.SIGINT, signal.SIG_IGN if self.count else self._previous)
        for sig, previous in self._others.items():
            signal.signal(sig, signal.SIG_IGN if self.count else previous)
        self._others = {}
        if self._write != -1:
            signal.set_wakeup_fd(self._previous_fd)
        self._close_pipe()
        self._previous = None

    def _close_pipe(self) -> None:
        for fd in (self._read, self._write):
            if fd != -1:
                with contextlib.suppress(OSError):
                    os.close(fd)
        self._read = self._write = -1

    def settle(self) -> None:
        """The work is done: a Ctrl+C from now on only counts (the exit code says so)."""
        self.settled = True

    def _drain(self) -> int:
        got = 0
        if self._read == -1:
            return 0
        ours = [int(sig).to_bytes(1, "little") for sig in (signal.SIGINT, *self._others)]
        with contextlib.suppress(OSError):
            while chunk := os.read(self._read, 512):
                got += sum(chunk.count(b) for b in ours)
        return got

    def _handle(self, signum: int, frame: object) -> None:
        before = self.count
        self.count += max(1, self._drain())
        if self.settled:
            return
        if before == 0:
            try:
                self._first(signum)
            except KeyboardInterrupt:
                self.settled = True
                raise
        if self.count >= 2:
            self.settled = True  # raised once; the handling of it must not be interrupted in turn
            raise KeyboardInterrupt
