"""A TCP proxy on loopback that can be frozen: it stops forwarding both ways but keeps every socket
open, as a server that stalls does (no error, no reset: the client's query just never gets an answer);
`close` then drops every connection and refuses new ones, as a server that went away does."""

from __future__ import annotations

import contextlib
import socket
import threading


class FreezableProxy:
    """Forwards 127.0.0.1:`port` to `upstream` (host, port) until frozen or closed."""

    def __init__(self, upstream: tuple[str, int]) -> None:
        self._upstream = upstream
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._listener.getsockname()[1]
        self._forwarding = threading.Event()
        self._forwarding.set()
        self._closed = False
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self._threads: list[threading.Thread] = []
        self._start(self._accept)

    def _start(self, target, *args) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True, name="freezable-proxy")
        self._threads.append(thread)
        thread.start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:  # closed
                return
            try:
                server = socket.create_connection(self._upstream, timeout=10)
                server.settimeout(None)
            except OSError:
                client.close()
                continue
            with self._lock:
                if self._closed:
                    client.close()
                    server.close()
                    return
                self._sockets += [client, server]
            self._start(self._pump, client, server)
            self._start(self._pump, server, client)

    def _pump(self, src: socket.socket, dst: socket.socket) -> None:
        while True:
            self._forwarding.wait()  # frozen: read nothing more, so nothing more is sent on either side
            try:
                data = src.recv(65536)
            except OSError:
                break
            self._forwarding.wait()  # frozen mid-way: what was read is held
            if not data or self._closed:
                break
            try:
                dst.sendall(data)
            except OSError:
                break
        for s in (src, dst):
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)

    def freeze(self) -> None:
        self._forwarding.clear()

    def thaw(self) -> None:
        self._forwarding.set()

    def close(self) -> None:
        """Drop every connection (the client sees the server close it) and refuse new ones."""
        with self._lock:
            self._closed = True
            sockets, self._sockets = self._sockets, []
        with contextlib.suppress(OSError):  # wakes the blocked accept(), which close() alone does not
            self._listener.shutdown(socket.SHUT_RDWR)
        self._listener.close()
        for s in sockets:
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
            s.close()
        self._forwarding.set()  # the pumps wake, find their sockets closed and end
        for thread in self._threads:
            thread.join(timeout=5)

    def __enter__(self) -> FreezableProxy:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()
