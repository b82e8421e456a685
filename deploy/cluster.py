"""Several Digit Draw instances behind nginx, with PostgreSQL and Redis, on this machine: `make cluster`.

    make cluster        # nginx on http://127.0.0.1:8080/, 3 instances, PostgreSQL, Redis (CLUSTER_PORT=...,
                        # CLUSTER_INSTANCES=..., CLUSTER_HOST=0.0.0.0 for a classroom)
    make cluster-down   # stop exactly what `make cluster` started; the data stays

Everything lives in one folder (instance/cluster/ for make, a temp folder for tests):

    postgres/ redis/ app-1/ ... app-N/ nginx/   each server's data and log
    app-1.pid ... postgres.pid redis.pid nginx.pid
                        the pid of each server we started (an instance's is its gunicorn master)
    cluster.pid         the supervisor that owns them (make cluster only)
    cluster.json        the addresses; written once nginx answers /api/health through to an instance
    cluster.log         what the supervisor saw

Why a supervisor: `make cluster` must return while the servers keep running. `up` starts `supervise`
in a session of its own (a Ctrl-C or a closed terminal does not reach it); it starts each server as its own
child, so it holds each process (reaps it, stops it in order), and `down` asks it to stop by its pid. If
the supervisor is gone, `down` stops each server by its pid file, after checking that the pid still is
that server (a pid file can outlive a reboot).

Tests and benchmarks use the same class in their own process:

    cluster = Cluster(tmp_path, instances=3, port=free_port()).start()
    ... cluster.url, cluster.app_pids, cluster.pid_file("app-2") ...
    balancer = start_balancer(tmp_path / "nginx-1", free_port(), cluster.apps[:1])   # nginx before fewer
    balancer.stop()
    cluster.stop()

Each instance is started as `make run` starts the app, one worker each (two cores are shared by all), with
the settings that make it one of several (CLUSTER_SETTINGS); every other DIGITDRAW_* variable of the caller
(DIGITDRAW_TEACHER_TOKEN, DIGITDRAW_SECRET_KEY, ...) reaches every instance as it is.
"""

from __future__ import annotations

import argparse
import json
import os
import pwd
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Mapping

from deploy.local_servers import Server, ServerMissing, free_port, postgres_binary, start_postgres, start_redis

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_FOLDER = PROJECT_ROOT / "instance" / "cluster"
NGINX_TEMPLATE = Path(__file__).with_name("nginx.conf")
NGINX_PLACEHOLDERS = ("NGINX_USER", "NGINX_LISTEN", "NGINX_STATE", "NGINX_LOGS", "APP_SERVERS", "STATIC_ROOT")
START_SECONDS = 180.0       # three instances load their models at the same time on two cores
STOP_SECONDS = 20.0
# What each pid file's process is called, checked before a signal is sent to a pid read from a file.
PROCESS_NAMES = {"cluster": "deploy.cluster", "nginx": "nginx", "redis": "redis-server", "postgres": "postgres",
                 "app": "gunicorn"}
# The proxy-free opener: an http_proxy in the environment must not carry our loopback health checks away.
DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def cluster_settings(database_url: str, redis_url: str) -> dict[str, str]:
    """What makes an instance one of several; deploy/compose.yaml sets the same variables."""
    return {"DIGITDRAW_DATABASE": database_url,           # drawings, versions, teacher's choices: shared
            "DIGITDRAW_RATELIMIT_STORAGE": redis_url,      # a client's limit holds across instances
            "DIGITDRAW_TRUSTED_PROXIES": "1"}              # nginx sets X-Forwarded-For; nobody else is believed


class Cluster:
    """nginx on `port`, `instances` app instances, PostgreSQL (or a SQLite file, for development) and Redis,
    each started as a child of this process and stopped by it."""

    def __init__(self, folder: str | Path = DEFAULT_FOLDER, *, instances: int = 3, port: int = 8080,
                 host: str = "127.0.0.1", database: str = "postgresql", workers: int = 1, durable: bool = True,
                 env: Mapping[str, str] | None = None):
        if database not in ("postgresql", "sqlite"):
            raise ValueError("database is 'postgresql' or 'sqlite'")
        self.folder = Path(folder).resolve()
        self.instances = instances
        self.port = port
        self.host = host
        self.database = database
        self.workers = workers
        self.durable = durable             # False: PostgreSQL without fsync (tests)
        self.env = dict(env or {})         # DIGITDRAW_* settings for every instance, over the caller's
        self.postgres: Server | None = None
        self.redis: Server | None = None
        self.apps: list[Server] = []
        self.nginx: Server | None = None
        self.database_url = ""

    @property
    def url(self) -> str:
        """The address to open on this computer (a cluster on every interface is also on 127.0.0.1)."""
        host = "127.0.0.1" if self.host in ("0.0.0.0", "::") else self.host
        return f"http://{host}:{self.port}"

    @property
    def app_pids(self) -> list[int]:
        return [app.pid for app in self.apps]

    def pid_file(self, name: str) -> Path:
        """`app-2`, `nginx`, `redis`, `postgres` -> the file holding that server's pid."""
        return self.folder / f"{name}.pid"

    def start(self) -> Cluster:
        """Start everything; return once nginx answers /api/health through to an instance (or stop it all and
        raise: a half-started cluster is never left running)."""
        missing = missing_packages(self.database)
        if missing:
            raise ServerMissing(f"the cluster needs Debian's {', '.join(missing)} "
                                f"(apt-get install {' '.join(missing)}; .ci/run and make cluster do it)")
        self.folder.mkdir(parents=True, exist_ok=True)
        try:
            self.database_url = self._start_database()
            self.redis = self._recorded("redis", start_redis(self.folder / "redis"))
            for number in range(1, self.instances + 1):   # all load their models at once
                self.apps.append(self._start_instance(number))
            for app in self.apps:
                wait_until_healthy(app.url, app.process, app.folder / "app.log")
            self.nginx = self._recorded("nginx", start_balancer(self.folder / "nginx", self.port, self.apps,
                                                                host=self.host))
            self._write_state()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """nginx first (no new requests), then the instances, Redis and PostgreSQL, each by the process we hold;
        an instance killed earlier is fine. The pid files go, the data stays."""
        if self.nginx:
            self.nginx.stop(timeout=STOP_SECONDS)
        stop_instances(self.apps)
        for server in (self.redis, self.postgres):
            if server:
                server.stop(timeout=STOP_SECONDS)
        for name in ("nginx", *(f"app-{n}" for n in range(1, self.instances + 1)), "redis", "postgres"):
            self.pid_file(name).unlink(missing_ok=True)
        (self.folder / "cluster.json").unlink(missing_ok=True)
        self.nginx, self.apps, self.redis, self.postgres = None, [], None, None

    def reap(self) -> list[str]:
        """Collect servers that have exited (so none stays a zombie); one line for each, said once."""
        lines = []
        servers = [("nginx", self.nginx), ("redis", self.redis), ("postgres", self.postgres),
                   *((f"app-{number}", app) for number, app in enumerate(self.apps, 1))]
        for name, server in servers:
            if server and server.process.returncode is None and server.process.poll() is not None:
                lines.append(f"{name} (pid {server.pid}) exited with status {server.process.returncode}")
        return lines

    def instance_environment(self) -> dict[str, str]:
        """The caller's environment with the cluster's settings; `env` last (tests: generous rate limits)."""
        environment = {name: value for name, value in os.environ.items()
                       if name != "DIGITDRAW_RATELIMIT_STORAGE_URI"}   # the alias below must win
        environment.update(cluster_settings(self.database_url, self.redis.url))
        environment.update(self.env)
        return environment

    def _recorded(self, name: str, server: Server) -> Server:
        self.pid_file(name).write_text(f"{server.pid}\n")
        return server

    def _start_database(self) -> str:
        """PostgreSQL by default; `database="sqlite"`: one SQLite file all instances open (one machine only)."""
        if self.database == "sqlite":
            return str(self.folder / "drawings.sqlite")
        folder = self.folder / "postgres"
        self.postgres = self._recorded("postgres", start_postgres(folder, free_port(), durable=self.durable,
                                                                  log=folder / "postgres.log"))
        return self.postgres.url

    def _start_instance(self, number: int) -> Server:
        """`make run`'s command on a loopback port of its own, in a session of its own, so that the pid in
        app-<n>.pid also names the instance's process group: its gunicorn master and its worker."""
        folder = self.folder / f"app-{number}"
        folder.mkdir(exist_ok=True)
        port = free_port()
        command = [sys.executable, "-m", "gunicorn", "-c", "python:webapp.server", "--bind", f"127.0.0.1:{port}",
                   "--workers", str(self.workers), "webapp:create_app()"]
        with open(folder / "app.log", "ab") as log:
            process = subprocess.Popen(command, cwd=folder, env=self.instance_environment(),
                                       stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                       start_new_session=True)
        return self._recorded(f"app-{number}", Server(process, port, f"http://127.0.0.1:{port}", folder))

    def _write_state(self) -> None:
        state = {"url": self.url + "/", "nginx": {"pid": self.nginx.pid, "port": self.port},
                 "instances": [{"pid": app.pid, "url": app.url} for app in self.apps],
                 "database": self.database_url, "redis": self.redis.url,
                 "postgres_pid": self.postgres.pid if self.postgres else None, "redis_pid": self.redis.pid}
        (self.folder / "cluster.json").write_text(json.dumps(state, indent=2) + "\n")


def start_balancer(folder: Path, port: int, apps: list[Server], host: str = "127.0.0.1") -> Server:
    """nginx with deploy/nginx.conf filled in for `folder` and these instances, in the foreground as our child;
    returned once it answers /api/health through to an instance. The cluster's nginx, and the benchmarks' nginx
    in front of fewer instances."""
    folder = Path(folder).resolve()
    logs = folder / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    let_workers_through(folder)
    config = folder / "nginx.conf"
    config.write_text(render_template(NGINX_TEMPLATE.read_text(), {
        "NGINX_USER": nginx_user(),
        "NGINX_LISTEN": f"[{host}]:{port}" if ":" in host else f"{host}:{port}",
        "NGINX_STATE": str(folder),
        "NGINX_LOGS": str(logs),
        "APP_SERVERS": "\n        ".join(f"server 127.0.0.1:{app.port};" for app in apps),
        "STATIC_ROOT": str(PROJECT_ROOT / "static"),
    }))
    command = [nginx_binary(), "-p", f"{folder}/", "-c", str(config), "-e", str(logs / "error.log"),
               "-g", "daemon off;"]
    with open(logs / "nginx.out", "ab") as output:
        process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=output, stderr=subprocess.STDOUT,
                                   start_new_session=True)
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    server = Server(process, port, f"http://{shown}:{port}", folder)
    try:
        wait_until_healthy(server.url, process, logs / "error.log", seconds=30)
    except BaseException:
        server.stop()
        raise
    return server


def render_template(text: str, values: Mapping[str, str]) -> str:
    """Fill each `${NAME}` as the nginx image's envsubst does; nginx's own `$variables` have no braces and stay."""
    missing = [name for name in NGINX_PLACEHOLDERS if name not in values]
    if missing:
        raise ValueError(f"no value for {', '.join(missing)}")
    return re.sub(r"\$\{([A-Z][A-Z0-9_]*)\}", lambda match: values.get(match[1], match[0]), text)


def nginx_binary() -> str:
    found = shutil.which("nginx") or ("/usr/sbin/nginx" if os.access("/usr/sbin/nginx", os.X_OK) else None)
    if not found:
        raise ServerMissing("nginx is not installed (Debian: apt-get install nginx; .ci/run and make cluster do it)")
    return found


def nginx_user() -> str:
    """The account nginx's workers run as when it starts as root (it ignores the setting otherwise)."""
    for name in ("www-data", "nginx", "nobody"):
        try:
            return pwd.getpwnam(name).pw_name
        except KeyError:
            continue
    return pwd.getpwuid(os.geteuid()).pw_name


def let_workers_through(folder: Path) -> None:
    """As root, nginx's workers are another user: they must reach the temp folders nginx makes in `folder`
    (bodies over client_body_buffer_size, big answers). The same as local_servers does for PostgreSQL."""
    if os.geteuid() != 0:
        return
    for parent in folder.parents:
        if parent.stat().st_uid == 0 and parent.stat().st_mode & 0o001 == 0:
            os.chmod(parent, parent.stat().st_mode | 0o001)


def wait_until_healthy(url: str, process: subprocess.Popen, log: Path, seconds: float = START_SECONDS) -> None:
    """Until GET <url>/api/health answers 200; the process exiting first is an error that shows its log."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url} exited with status {process.returncode} before it was healthy\n{tail(log)}")
        try:
            with DIRECT.open(f"{url}/api/health", timeout=5) as answer:
                if answer.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url}/api/health did not answer 200 within {seconds:g} s\n{tail(log)}")


def stop_instances(apps: list[Server]) -> None:
    """SIGTERM to every instance's process group at once (gunicorn's graceful stop; it also reaches a worker
    whose master was killed alone), then wait for each, and SIGKILL a group that will not go."""
    for app in apps:
        signal_group(app.pid, signal.SIGTERM)
    for app in apps:
        try:
            app.process.wait(timeout=STOP_SECONDS)
        except subprocess.TimeoutExpired:
            signal_group(app.pid, signal.SIGKILL)
            app.process.wait(timeout=STOP_SECONDS)


def signal_group(pgid: int, number: int) -> None:
    try:
        os.killpg(pgid, number)
    except (ProcessLookupError, PermissionError):
        pass   # nothing of it is left


def tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return f"({path} cannot be read)"


# `make cluster-down` without the supervisor: stopping servers by their pid files.

def read_pid(path: Path) -> int | None:
    try:
        return int(path.read_text().strip())
    except (OSError, ValueError):
        return None


def is_running(pid: int | None, kind: str) -> bool:
    """The pid is alive (not a zombie) and is the kind of server its file says: never signal a stranger."""
    if not pid:
        return False
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z" and PROCESS_NAMES[kind] in command


def wait_gone(pid: int, kind: str, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not is_running(pid, kind):
            return True
        time.sleep(0.1)
    return not is_running(pid, kind)


def stop_by_pid_file(path: Path, kind: str, number: int) -> str | None:
    """Send `number` to the server named in `path` (to its group, for an instance), wait, then SIGKILL."""
    pid = read_pid(path)
    said = None
    if is_running(pid, kind):
        group = kind == "app" and process_group(pid) == pid
        send = (lambda n: signal_group(pid, n)) if group else (lambda n: os.kill(pid, n))
        send(number)
        if not wait_gone(pid, kind, STOP_SECONDS):
            send(signal.SIGKILL)
            wait_gone(pid, kind, STOP_SECONDS)
        said = f"stopped {path.stem} (pid {pid})"
    path.unlink(missing_ok=True)
    return said


def process_group(pid: int) -> int | None:
    try:
        return os.getpgid(pid)
    except ProcessLookupError:
        return None


def stop_recorded(folder: Path) -> list[str]:
    """Stop what the pid files in `folder` name: the supervisor (it stops the rest in order), then anything it
    left, in the same order. Dead pids and missing files are fine."""
    said = []
    supervisor = read_pid(folder / "cluster.pid")
    if is_running(supervisor, "cluster"):
        os.kill(supervisor, signal.SIGTERM)
        if wait_gone(supervisor, "cluster", 4 * STOP_SECONDS + 30):
            said.append(f"stopped the supervisor (pid {supervisor}) and what it started")
    (folder / "cluster.pid").unlink(missing_ok=True)
    apps = sorted(folder.glob("app-*.pid"), key=lambda path: int(path.stem.split("-")[1]))
    for path, kind, number in [(folder / "nginx.pid", "nginx", signal.SIGTERM),
                               *((path, "app", signal.SIGTERM) for path in apps),
                               (folder / "redis.pid", "redis", signal.SIGTERM),
                               (folder / "postgres.pid", "postgres", signal.SIGINT)]:
        if line := stop_by_pid_file(path, kind, number):
            said.append(line)
    (folder / "cluster.json").unlink(missing_ok=True)
    return said


# The command line (the Makefile's targets).

def missing_packages(database: str) -> list[str]:
    """The Debian packages the cluster needs that are not installed."""
    return [package for package, present in (
        ("nginx", found(nginx_binary)),
        ("redis-server", shutil.which("redis-server") is not None),
        ("postgresql", database != "postgresql" or found(lambda: postgres_binary("postgres"))),
    ) if not present]


def found(binary) -> bool:
    try:
        return bool(binary())
    except ServerMissing:
        return False


def install_missing_packages(database: str) -> None:
    """nginx, redis-server and postgresql from Debian's packages when missing, as .ci/run installs them (root
    only; otherwise say what to install)."""
    missing = missing_packages(database)
    if not missing:
        return
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        raise ServerMissing(f"the cluster needs {', '.join(missing)}: sudo apt-get install {' '.join(missing)}")
    print(f"Installing {', '.join(missing)} with apt-get ...", flush=True)
    environment = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=environment)
    subprocess.run(["apt-get", "install", "-y", "-qq", "-o", "DPkg::Lock::Timeout=300", *missing], check=True,
                   env=environment)


def cluster_from(arguments: argparse.Namespace) -> Cluster:
    return Cluster(arguments.folder, instances=arguments.instances, port=arguments.port, host=arguments.host,
                   database=arguments.database, workers=arguments.workers)


def up(arguments: argparse.Namespace) -> int:
    """Start the supervisor in its own session, wait until the cluster answers (or failed), say where it is."""
    folder = Path(arguments.folder)
    if is_running(read_pid(folder / "cluster.pid"), "cluster") and (folder / "cluster.json").exists():
        print(f"The cluster is already running: {json.loads((folder / 'cluster.json').read_text())['url']} "
              "(make cluster-down stops it)")
        return 0
    install_missing_packages(arguments.database)
    folder.mkdir(parents=True, exist_ok=True)
    for line in stop_recorded(folder):   # what a killed supervisor left behind
        print(f"left from an earlier run: {line}")
    started = time.monotonic()
    forwarded = ["--folder", str(folder), "--instances", str(arguments.instances), "--port", str(arguments.port),
                 "--host", arguments.host, "--database", arguments.database, "--workers", str(arguments.workers)]
    with open(folder / "cluster.log", "ab") as log:
        supervisor = subprocess.Popen([sys.executable, "-m", "deploy.cluster", "supervise", *forwarded],
                                      cwd=PROJECT_ROOT, stdin=subprocess.DEVNULL, stdout=log,
                                      stderr=subprocess.STDOUT, start_new_session=True)
    (folder / "cluster.pid").write_text(f"{supervisor.pid}\n")
    print(f"Starting {arguments.instances} instances, {arguments.database}, Redis and nginx in {folder} ...",
          flush=True)
    state = folder / "cluster.json"
    deadline = time.monotonic() + START_SECONDS + 60
    while not state.exists() and supervisor.poll() is None and time.monotonic() < deadline:
        time.sleep(0.2)
    if not state.exists():
        print(f"The cluster did not start; {folder / 'cluster.log'} says:\n{tail(folder / 'cluster.log', 30)}",
              file=sys.stderr)
        stop_recorded(folder)
        return 1
    print_state(json.loads(state.read_text()), folder, arguments.host, time.monotonic() - started)
    return 0


def print_state(state: dict, folder: Path, host: str, seconds: float) -> None:
    print(f"Digit Draw cluster ready in {seconds:.1f} s: {state['url']}")
    if host in ("0.0.0.0", "::"):
        from webapp.addresses import network_addresses

        port = state["nginx"]["port"]
        print("Students on this network can open: " + "  ".join(f"http://{a}:{port}/" for a in network_addresses()))
    for number, instance in enumerate(state["instances"], 1):
        print(f"  app-{number}: pid {instance['pid']}, {instance['url']}")
    print(f"  nginx pid {state['nginx']['pid']}; database {state['database']}; Redis {state['redis']}")
    print(f"  data, logs and pid files in {folder}; `make cluster-down` stops it")


def down(arguments: argparse.Namespace) -> int:
    said = stop_recorded(Path(arguments.folder))
    print("\n".join(said) if said else "No cluster was running.")
    return 0


def supervise(arguments: argparse.Namespace) -> int:
    """The cluster's owner: start it, reap what exits, stop it all on SIGTERM / SIGINT / SIGHUP."""
    stopping = threading.Event()
    for number in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(number, lambda *_: stopping.set())
    cluster = cluster_from(arguments)
    say(f"supervisor pid {os.getpid()} starting the cluster in {cluster.folder}")
    try:
        cluster.start()
        say(f"ready: {cluster.url}/ (instances {cluster.app_pids})")
        while not stopping.wait(1.0):
            for line in cluster.reap():
                say(line)
    finally:
        say("stopping")
        cluster.stop()
        (cluster.folder / "cluster.pid").unlink(missing_ok=True)
        say("stopped")
    return 0


def say(line: str) -> None:
    print(time.strftime("%Y-%m-%d %H:%M:%S"), line, flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m deploy.cluster", description=__doc__.split("\n")[0])
    parser.add_argument("command", choices=("up", "down", "supervise"))
    parser.add_argument("--folder", default=str(DEFAULT_FOLDER))
    parser.add_argument("--instances", type=int, default=3)
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--host", default="127.0.0.1", help="nginx's address (0.0.0.0: every interface)")
    parser.add_argument("--database", choices=("postgresql", "sqlite"), default="postgresql")
    parser.add_argument("--workers", type=int, default=1, help="gunicorn workers per instance")
    arguments = parser.parse_args(argv)
    try:
        return {"up": up, "down": down, "supervise": supervise}[arguments.command](arguments)
    except ServerMissing as missing:
        print(missing, file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
