"""PostgreSQL and Redis from Debian's packages, started on loopback ports in a folder of our own and stopped
by the pid we started: for the tests (`tests/conftest.py`), `make cluster` (deploy/cluster.py) and the
cluster benchmarks. Nothing here touches a system-wide server.

PostgreSQL refuses to run as root, so when we are root (CI, `make cluster` on a fresh machine) it runs as
Debian's `postgres` user in a data folder handed to that user. Each server runs in the foreground as our
child: its pid is the process we hold, and `stop()` ends exactly that process.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

START_SECONDS = 30.0


class ServerMissing(RuntimeError):
    """The Debian package that provides this server is not installed."""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for_port(port: int, process: subprocess.Popen | None, seconds: float = START_SECONDS) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"the server on port {port} exited with status {process.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing answered on port {port} within {seconds:g} s")


def postgres_binary(name: str) -> str:
    """`initdb` or `postgres`: on PATH, or in Debian's /usr/lib/postgresql/<version>/bin (newest first)."""
    found = shutil.which(name)
    if found:
        return found
    for folder in sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda f: int(f.split("/")[-2]),
                         reverse=True):
        candidate = os.path.join(folder, name)
        if os.access(candidate, os.X_OK):
            return candidate
    raise ServerMissing("PostgreSQL is not installed (Debian: apt-get install postgresql; .ci/run does it)")


@dataclass
class Server:
    process: subprocess.Popen
    port: int
    url: str
    folder: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    def stop(self, timeout: float = 20.0) -> None:
        """End the process we started (SIGINT: PostgreSQL's fast shutdown; Redis quits on it too)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=timeout)


def _as_postgres_user() -> dict:
    """Popen arguments that drop root to Debian's `postgres` user; nothing when we are not root."""
    if os.geteuid() != 0:
        return {}
    try:
        account = pwd.getpwnam("postgres")
    except KeyError:
        raise ServerMissing("running as root needs the `postgres` user of Debian's postgresql package") from None
    return {"user": account.pw_uid, "group": account.pw_gid, "extra_groups": []}


def start_postgres(folder: str | Path, port: int | None = None, *, database: str = "digitdraw",
                   durable: bool = True, log: str | Path | None = None) -> Server:
    """A PostgreSQL server whose data lives in `folder` (created with initdb when empty), listening on
    127.0.0.1:`port` only, with a `database` in it; `durable=False` turns fsync off (tests)."""
    folder = Path(folder)
    port = port or free_port()
    user = _as_postgres_user()
    data = folder / "data"
    folder.mkdir(parents=True, exist_ok=True)
    if user:
        # the folder and every parent must be reachable by the postgres user
        os.chown(folder, user["user"], user["group"])
        for parent in folder.parents:
            if parent.stat().st_mode & 0o001 == 0 and parent.stat().st_uid == 0:
                os.chmod(parent, parent.stat().st_mode | 0o001)
    if not (data / "PG_VERSION").exists():
        subprocess.run([postgres_binary("initdb"), "-D", str(data), "-U", "digitdraw", "--auth=trust",
                        "-E", "UTF8", "--locale=C", "--no-sync"],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, **user)
    options = ["-c", "listen_addresses=127.0.0.1", "-c", f"unix_socket_directories={folder}",
               "-c", "max_connections=200"]
    if not durable:
        options += ["-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"]
    output = open(log, "ab") if log else subprocess.DEVNULL
    process = subprocess.Popen([postgres_binary("postgres"), "-D", str(data), "-p", str(port), *options],
                               stdout=output, stderr=subprocess.STDOUT, **user)
    url = f"postgresql://digitdraw@127.0.0.1:{port}/{database}"
    server = Server(process, port, url, folder)
    try:
        _create_database(port, database, process)
    except BaseException:
        server.stop()
        raise
    return server


def _create_database(port: int, database: str, process: subprocess.Popen) -> None:
    import psycopg

    deadline = time.monotonic() + START_SECONDS
    while True:
        try:
            with psycopg.connect(f"postgresql://digitdraw@127.0.0.1:{port}/postgres", autocommit=True,
                                 connect_timeout=2) as connection:
                exists = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", (database,)).fetchone()
                if not exists:
                    connection.execute(f'CREATE DATABASE "{database}"')
                return
        except psycopg.OperationalError:
            if process.poll() is not None:
                raise RuntimeError(f"PostgreSQL exited with status {process.returncode}") from None
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def start_redis(folder: str | Path, port: int | None = None) -> Server:
    """A Redis that keeps nothing on disk, listening on 127.0.0.1:`port` only."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise ServerMissing("Redis is not installed (Debian: apt-get install redis-server; .ci/run does it)")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    port = port or free_port()
    process = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(folder),
                                "--save", "", "--appendonly", "no", "--daemonize", "no"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    server = Server(process, port, f"redis://127.0.0.1:{port}", folder)
    try:
        wait_for_port(port, process)
    except BaseException:
        server.stop()
        raise
    return server


# The app itself, as `make run` serves it, for the tests and benchmarks that talk to a real gunicorn.
PROJECT_ROOT = Path(__file__).resolve().parent.parent
APP_STOP_SECONDS = 5


def start_make_run(port: int, env_overrides: dict, log_path: Path | None = None,
                   command: list[str] | None = None) -> subprocess.Popen:
    """`make run` on 127.0.0.1:`port` (or another `command`), in its own process group so that
    stop_server stops it whole; its output goes to `log_path` or nowhere."""
    env = {**os.environ, "HOST": "127.0.0.1", "PORT": str(port), **env_overrides}
    command = command or ["make", "--no-print-directory", "run"]
    output = open(log_path, "wb") if log_path else subprocess.DEVNULL
    try:
        return subprocess.Popen(command, cwd=PROJECT_ROOT, env=env, stdout=output, stderr=subprocess.STDOUT,
                                start_new_session=True)
    finally:
        if log_path:
            output.close()


def stop_server(server: subprocess.Popen) -> None:
    """Stop the server's whole process group (the one it was started in, nothing else).

    A gunicorn worker that gets SIGTERM while it is still booting misses it (the master
    then waits its 30 s graceful timeout), so after APP_STOP_SECONDS the group is killed."""
    try:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=APP_STOP_SECONDS)
    except ProcessLookupError:
        server.wait(timeout=20)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.pid, signal.SIGKILL)
        server.wait(timeout=20)


def multipart_body(png: bytes, filename: str = "canvas.png", **fields) -> tuple[bytes, str]:
    """A multipart form as a browser sends it: the text `fields`, then the PNG as `image`."""
    boundary = uuid.uuid4().hex
    texts = "".join(f"--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
                    for name, value in fields.items())
    body = (f"{texts}--{boundary}\r\nContent-Disposition: form-data; name=\"image\"; filename=\"{filename}\"\r\n"
            f"Content-Type: image/png\r\n\r\n").encode() + png + f"\r\n--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"
