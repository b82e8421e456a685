"""Per-client rate limits: floods meet 429 with Retry-After, people drawing live never do."""

import io
import time

from support import make_app


def limited_app(tmp_path, **config):
    return make_app(tmp_path / "drawings.sqlite", **{"RATELIMIT_ENABLED": True, **config})


def predict(client, png, **environ):
    return client.post("/api/predict", data={"image": (io.BytesIO(png), "drawing.png")},
                       content_type="multipart/form-data", environ_base=environ)


def feedback(client, png, **environ):
    return client.post("/api/feedback", data={"image": (io.BytesIO(png), "drawing.png"), "label": "7"},
                       content_type="multipart/form-data", environ_base=environ)


def test_a_prediction_burst_meets_429_with_retry_after_and_a_sentence(tmp_path, seven):
    client = limited_app(tmp_path, RATELIMIT_PREDICT="10 per second").test_client()
    statuses = [predict(client, seven).status_code for _ in range(15)]
    assert statuses[:10] == [200] * 10 and statuses[10:] == [429] * 5
    refused = predict(client, seven)
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["Retry-After"]) <= 2
    assert refused.get_json() == {"error": "Too many requests from your address (the limit is 10 per 1 second). "
                                           "Wait a moment and try again."}


def test_live_drawing_at_seven_predictions_a_second_is_never_refused(tmp_path, seven):
    """The default limits, at a student's pace (two seconds of live drawing)."""
    client = limited_app(tmp_path).test_client()
    statuses = []
    for _ in range(14):
        statuses.append(predict(client, seven).status_code)
        time.sleep(1 / 7)
    assert statuses == [200] * 14


def test_a_feedback_flood_meets_429_within_its_first_100_posts(tmp_path, seven):
    client = limited_app(tmp_path).test_client()
    statuses = [feedback(client, seven).status_code for _ in range(100)]
    assert 429 in statuses
    assert statuses.count(201) <= 60   # 5 a second, and 60 a minute however slowly the machine runs
    assert client.get("/api/drawings").get_json()["total"] == statuses.count(201)


def test_each_client_has_its_own_limit(tmp_path, seven):
    client = limited_app(tmp_path, RATELIMIT_PREDICT="2 per minute").test_client()
    first = {"REMOTE_ADDR": "192.0.2.1"}
    assert [predict(client, seven, **first).status_code for _ in range(3)] == [200, 200, 429]
    assert predict(client, seven, REMOTE_ADDR="192.0.2.2").status_code == 200


def test_an_ipv6_client_is_its_64_network(tmp_path, seven):
    client = limited_app(tmp_path, RATELIMIT_PREDICT="2 per minute").test_client()
    statuses = [predict(client, seven, REMOTE_ADDR=f"2001:db8:1:2::{host}").status_code for host in (1, 2, 3)]
    assert statuses == [200, 200, 429]
    assert predict(client, seven, REMOTE_ADDR="2001:db8:1:3::1").status_code == 200


def test_forwarded_for_is_ignored_unless_a_proxy_is_trusted(tmp_path, seven):
    client = limited_app(tmp_path, RATELIMIT_PREDICT="1 per minute").test_client()
    spoofed = [predict(client, seven, HTTP_X_FORWARDED_FOR=f"198.51.100.{n}").status_code for n in (1, 2)]
    assert spoofed == [200, 429]

    behind_proxy = limited_app(tmp_path, RATELIMIT_PREDICT="1 per minute", TRUSTED_PROXIES=1).test_client()
    forwarded = [predict(behind_proxy, seven, HTTP_X_FORWARDED_FOR=f"198.51.100.{n}").status_code
                 for n in (1, 2, 1)]
    assert forwarded == [200, 200, 429]


def test_static_files_are_not_limited(tmp_path):
    client = limited_app(tmp_path, RATELIMIT_DEFAULT="2 per minute").test_client()
    assert [client.get("/static/css/base.css").status_code for _ in range(5)] == [200] * 5
    assert [client.get("/api/models").status_code for _ in range(3)] == [200, 200, 429]


def test_limits_can_be_switched_off_for_benchmarks(tmp_path, seven):
    client = limited_app(tmp_path, RATELIMIT_ENABLED=False, RATELIMIT_PREDICT="1 per minute").test_client()
    assert [predict(client, seven).status_code for _ in range(3)] == [200] * 3
