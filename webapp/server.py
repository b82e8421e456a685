"""How `make run` serves the app: gunicorn settings, hooks and a worker that slow clients cannot hold.

    gunicorn -c python:webapp.server --bind HOST:PORT --workers N 'webapp:create_app()'

A classroom's phones on a shared wifi (and anyone with a script) send requests
slowly or stop half way. Gunicorn's sync workers give each connection a whole
process until it finishes, so two stalled uploads stopped every other request.
Here each worker is gevent's event loop: a stalled connection costs a greenlet,
not a worker. `ClassroomWorker` adds the two deadlines gunicorn lacks for it:
the request line and headers must arrive within HEADER_TIMEOUT (also the idle
time allowed between keep-alive requests), and the whole body within
BODY_TIMEOUT. The body is read completely before Flask sees the request, so the
app never waits on the network while holding anything.
"""

from __future__ import annotations

# gunicorn reads this file before it loads (preloads) the app: patching here, before anything imports socket,
# threading or psycopg, makes every wait in the app a greenlet's (a PostgreSQL query or lock wait, a Redis
# call). gevent's worker patches again after the fork, but by then psycopg would have chosen its blocking
# C wait and the app's locks would be real OS locks: one slow query would stop every request of the worker.
from gevent import monkey

monkey.patch_all()

import io  # noqa: E402
import json  # noqa: E402
import resource  # noqa: E402
import socket  # noqa: E402
import threading  # noqa: E402

import gevent  # noqa: E402
from gunicorn.workers.ggevent import GeventWorker  # noqa: E402

from webapp.addresses import addresses_to_open  # noqa: E402
from webapp.whole_responses import HeadersWithTheirBody  # noqa: E402

# gunicorn settings (the command line adds bind, workers and the app)
worker_class = "webapp.server.ClassroomWorker"
worker_connections = 2000          # per worker; stalled connections are closed by the deadlines below
control_socket_disable = True      # one fixed control socket per user would be shared by every instance
preload_app = True                 # models are loaded once, before the workers fork
accesslog = None                   # the app logs each request itself (webapp/http/logs.py)
sendfile = False                   # every answer goes through HeadersWithTheirBody (a file's is small: static/)

NEXT_TURN = 1e-6                   # any sleep above 0 waits for the loop's next turn (gevent.sleep)
THREADS_END_WITHIN = 5.0           # seconds the master waits for the preloaded app's threads before a fork


class ClassroomWorker(GeventWorker):
    """A gevent worker with header and body deadlines taken from the app's settings."""

    def load_wsgi(self):
        super().load_wsgi()
        config = self.wsgi.config
        self.header_timeout = config["HEADER_TIMEOUT"]
        self.wsgi = WholeBodyFirst(self.wsgi, config["BODY_TIMEOUT"], config["MAX_CONTENT_LENGTH"])

    def handle(self, listener, client, addr):
        """Each response's headers go out with its body (HeadersWithTheirBody), and Nagle never holds a write."""
        if client.family in (socket.AF_INET, socket.AF_INET6):
            client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().handle(listener, HeadersWithTheirBody(client), addr)

    def handle_request(self, listener_name, req, sock, addr):
        """Serve one request, then let the loop go round before this connection's next one.

        A keep-alive client that sends its next request before the worker reads again
        would otherwise be served over and over while other connections wait (p95 of
        365 ms at 16 clients, p50 of 4 ms, measured): going round the loop serves every
        ready connection once per turn. (Closing every 50th keep-alive connection to even
        out the workers' shares was measured too: 374 req/s at 16 clients against 419 without.)
        """
        try:
            keep_alive = super().handle_request(listener_name, req, sock, addr)
        finally:
            sock.end_of_response()
        gevent.sleep(NEXT_TURN)
        return keep_alive

    def timeout_ctx(self):
        """Gunicorn wraps the reading of each request's headers (and the wait for the next) in this."""
        return gevent.Timeout(self.header_timeout, False)


class WholeBodyFirst:
    """WSGI middleware: read the whole body within `seconds`, then call the app with it in memory.

    A body longer than `limit` is not read: the app answers 413 from Content-Length.
    A body that does not arrive in time gets a 408 and the connection is closed.
    """

    def __init__(self, app, seconds: float, limit: int):
        self.app = app
        self.seconds = seconds
        self.limit = limit

    def __call__(self, environ, start_response):
        declared = environ.get("CONTENT_LENGTH") or ""
        chunked = "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()
        if chunked or (declared.isdigit() and 0 < int(declared) <= self.limit):
            try:
                with gevent.Timeout(self.seconds):
                    body = environ["wsgi.input"].read(self.limit + 1) if chunked else \
                        read_exactly(environ["wsgi.input"], int(declared))
            except gevent.Timeout:
                return self.too_slow(environ, start_response)
            environ["wsgi.input"] = io.BytesIO(body)
            environ["CONTENT_LENGTH"] = str(len(body))
            environ.pop("HTTP_TRANSFER_ENCODING", None)
        return self.app(environ, start_response)

    def too_slow(self, environ, start_response):
        """408, then the connection is shut: gunicorn drops the app's `Connection: close` header and
        would otherwise wait HEADER_TIMEOUT more for the rest of the body."""
        body = json.dumps({"error": f"The request did not arrive within {self.seconds:g} s; "
                                   "check the connection and send it again."}).encode()
        start_response("408 Request Timeout", [("Content-Type", "application/json"),
                                               ("Content-Length", str(len(body)))])
        return ShutAfterSending([body], environ["gunicorn.socket"])


class ShutAfterSending(list):
    """A response body whose close(), which the server calls once it has been sent, shuts the connection."""

    def __init__(self, parts, connection: socket.socket):
        super().__init__(parts)
        self.connection = connection

    def close(self) -> None:
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass   # the client is gone already


def read_exactly(stream, length: int) -> bytes:
    """Up to `length` bytes: fewer only when the client closed the connection early."""
    parts, remaining = [], length
    while remaining > 0:
        part = stream.read(min(remaining, 64 * 1024))
        if not part:
            break
        parts.append(part)
        remaining -= len(part)
    return b"".join(parts)


def on_starting(server):
    """Allow as many open connections as the system lets this user have (stalled ones count too)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = hard if hard != resource.RLIM_INFINITY else 65536
    if soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))


def pre_fork(server, worker):
    """Fork a worker only once the threads the preloaded app started have ended.

    Creating the app starts short threads: Flask-Limiter's in-memory counters (limits' MemoryStorage, one
    for the counters and one for the fallback when Redis is away) each start a 10 ms `threading.Timer`.
    Patched by gevent a thread is a greenlet of the hub, and a fork copies the hub: a timer still waiting
    then also runs in the worker, whose `threading` forgot every thread but its own at the fork, and ends
    in a KeyError traceback there. Here they end in the master first (milliseconds, once).
    """
    for thread in threading.enumerate():
        # a _DummyThread is gevent's stand-in for a greenlet that asked for its thread: nothing to wait for
        if thread is not threading.current_thread() and not isinstance(thread, threading._DummyThread):
            thread.join(THREADS_END_WITHIN)
            if thread.is_alive():
                server.log.warning("Forking a worker while the thread %r still runs: it runs on in the worker "
                                   "too, without its place in the worker's threading.", thread.name)


def when_ready(server):
    """Say where the app can be opened, so a teacher knows what students type (the join QR code's address)."""
    public_url = server.app.wsgi().config.get("PUBLIC_URL")
    for address in server.LISTENERS:
        host, port = address.sock.getsockname()[:2]
        for line in addresses_to_open(host, port, public_url):
            server.log.info(line)
