"""Rate limits shared by several instances through a real Redis (Debian's redis-server, started here on a free
loopback port in a temporary folder and stopped by its pid), and an instance that stays healthy when Redis
goes away."""

from __future__ import annotations

import os

import pytest

from deploy.local_servers import ServerMissing, start_redis
from support import make_app, post_image
from webapp import settings


@pytest.fixture()
def redis_url(tmp_path):
    try:
        server = start_redis(tmp_path / "redis")
    except ServerMissing as missing:
        (pytest.fail if os.environ.get("CI") else pytest.skip)(str(missing))   # CI installs it: never skipped there
    yield server.url, server.process
    server.stop()


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
