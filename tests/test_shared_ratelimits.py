"""Rate limits shared by several instances through a real Redis (Debian's redis-server, started here on a free
loopback port in a temporary folder and stopped by its pid), and an instance that stays healthy when Redis
goes away."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time

import pytest

from benchmarks.bench_load import free_port
from support import make_app, post_image
from webapp import settings

REDIS = shutil.which("redis-server")


@pytest.fixture()
def redis_url(tmp_path):
    if REDIS is None:
        message = "the shared rate-limit tests need Debian's redis-server (.ci/run installs it)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    port = free_port()
    server = subprocess.Popen([REDIS, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(tmp_path),
                               "--save", "", "--appendonly", "no", "--daemonize", "no"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.05)
    else:
        server.kill()
        pytest.fail("redis-server did not start")
    yield f"redis://127.0.0.1:{port}", server
    if server.poll() is None:
        server.terminate()
        server.wait(timeout=10)


def limited_app(tmp_path, name: str, storage: str):
    return make_app(tmp_path / f"{name}.sqlite", RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI=storage,
                    RATELIMIT_PREDICT="5 per minute")


def test_two_instances_sharing_redis_share_each_clients_limit(tmp_path, redis_url, seven):
    url, _ = redis_url
    first, second = (limited_app(tmp_path, name, url).test_client() for name in ("a", "b"))
    statuses = [post_image(client, seven).status_code for client in (first, second, first, second, first, second)]
    assert statuses == [200, 200, 200, 200, 200, 429]   # the 6th prediction, wherever it lands, is one too many
    assert post_image(first, seven).status_code == 429


def test_with_counters_in_memory_each_instance_counts_alone(tmp_path, seven):
    first, second = (limited_app(tmp_path, name, "memory://").test_client() for name in ("a", "b"))
    statuses = [post_image(client, seven).status_code for client in (first, second, first, second, first, second)]
    assert statuses == [200] * 6   # what Redis is for: 10 allowed across two instances instead of 5


def test_when_redis_goes_away_predictions_are_still_answered(tmp_path, redis_url, seven):
    url, server = redis_url
    client = limited_app(tmp_path, "a", url).test_client()
    assert post_image(client, seven).status_code == 200
    server.kill()   # Redis stops under a running instance
    server.wait(timeout=10)
    assert [post_image(client, seven).status_code for _ in range(3)] == [200, 200, 200]


def test_the_multi_machine_name_of_the_setting_is_accepted():
    values = settings.from_environment({"DIGITDRAW_RATELIMIT_STORAGE": "redis://127.0.0.1:6390"})
    assert values == {"RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6390"}
