"""A TCP proxy in front of a real server that can cut connections: transient network faults
(a reset before any answer) without faking the server."""

from __future__ import annotations

import socket
import struct
import threading
from collections.abc import Iterator
from contextlib import contextmanager


class FaultyProxy:
    """Forwards 127.0.0.1:<port> to ``target``; the first ``reset_first`` connections (or all,
    while ``down``) are closed with a TCP reset as soon as they arrive."""

    def __init__(self, target: tuple[str, int], reset_first: int = 0) -> None:
        self.target, self.reset_first, self.down = target, reset_first, False
        self.resets = 0
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._stop = threading.Event()

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def serve(self) -> None:
        self._listener.settimeout(0.2)
        while not self._stop.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            if self.down or self.resets < self.reset_first:
                self.resets += 1
                # SO_LINGER 0: close() sends RST, the client sees "connection reset".
                client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                client.close()
                continue
            threading.Thread(target=self._pipe_pair, args=(client,), daemon=True).start()

    def _pipe_pair(self, client: socket.socket) -> None:
        upstream = socket.create_connection(self.target)
        for a, b in ((client, upstream), (upstream, client)):
            threading.Thread(target=_pipe, args=(a, b), daemon=True).start()

    def close(self) -> None:
        self._stop.set()
        self._listener.close()


def _pipe(src: socket.socket, dst: socket.socket) -> None:
    try:
        while data := src.recv(65536):
            dst.sendall(data)
    except OSError:
        pass
    finally:
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


@contextmanager
def faulty_proxy(target: tuple[str, int], reset_first: int = 0) -> Iterator[FaultyProxy]:
    proxy = FaultyProxy(target, reset_first)
    thread = threading.Thread(target=proxy.serve, daemon=True)
    thread.start()
    try:
        yield proxy
    finally:
        proxy.close()
        thread.join(timeout=5)
