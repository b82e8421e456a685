"""A response's headers and body in one write to the client (used by the gunicorn worker, webapp/server.py).

Kept apart from webapp/server.py, which patches the standard library with gevent when imported.
"""

from __future__ import annotations

import socket

HEADERS_END = b"\r\n\r\n"


class HeadersWithTheirBody:
    """The client's socket, except that a response's headers wait for its first piece of body and go out in
    the same write (gunicorn writes them separately). A worker killed between two writes would leave the
    proxy in front holding a 200 without its body, which it can neither pass on nor retry elsewhere: the
    failover test saw one such prediction in a few thousand. Killed before the one write, nothing was sent
    and nginx retries the prediction on another instance."""

    def __init__(self, sock: socket.socket):
        self._sock = sock
        self._held = b""
        self._at_start = True   # the next write is a response's headers

    def sendall(self, data, *flags) -> None:
        if self._at_start:
            self._at_start = False
            if bytes(data).endswith(HEADERS_END):   # headers alone; a whole answer (gunicorn's errors) goes now
                self._held = bytes(data)
                return
        if self._held:
            data, self._held = self._held + bytes(data), b""
        self._sock.sendall(data, *flags)

    def end_of_response(self) -> None:
        """Send what is held (the headers of a response without a body) and wait for the next headers."""
        held, self._held, self._at_start = self._held, b"", True
        if held:
            try:
                self._sock.sendall(held)
            except OSError:
                pass   # the client is gone; gunicorn closes the connection

    def __getattr__(self, name: str):
        return getattr(self._sock, name)
