"""Per-client rate limits (Flask-Limiter), so one client cannot take the server from a class.

Counters live where `RATELIMIT_STORAGE_URI` points: by default a SQLite file shared by
every worker of the machine (webapp/http/machine_counters.py), or Redis, shared by several
instances, or each process's memory. While the file or Redis cannot be used, each process
counts in memory rather than failing requests. A client is
its address; an IPv6 client is its /64 network, since one home or phone gets a
whole /64 and could otherwise step round the limit. Behind proxies the address
comes from `X-Forwarded-For` only when `TRUSTED_PROXIES` says how many hops to
believe (Werkzeug's ProxyFix); by default the header is ignored.
"""

from __future__ import annotations

import ipaddress

from flask import Flask, Response, current_app, request
from flask_limiter import Limiter
from werkzeug.middleware.proxy_fix import ProxyFix

from webapp.http import machine_counters

IPV6_CLIENT_PREFIX = 64
RETRY_LATER = (429, 503)   # the statuses whose answer says when to come back
# Endpoints with limits of their own (the setting that holds them); every other
# endpoint but the static files gets RATELIMIT_DEFAULT.
ENDPOINT_LIMITS = {
    "api.predict": "RATELIMIT_PREDICT",
    "explain.explain": "RATELIMIT_EXPLAIN",
    "feedback.add_feedback": "RATELIMIT_FEEDBACK",
    "feedback.delete_drawing": "RATELIMIT_FEEDBACK",
    "feedback.clear_drawings": "RATELIMIT_FEEDBACK",
    "feedback.undo_feedback": "RATELIMIT_FEEDBACK",
    "teacher.sign_in": "RATELIMIT_FEEDBACK",   # and guessing the token is hopeless at 1,000 an hour
    "teacher.change_classroom": "RATELIMIT_FEEDBACK",
    "join.qr_code": "RATELIMIT_FEEDBACK",   # a QR code costs milliseconds; a page needs one
    "versions.serve_version": "RATELIMIT_FEEDBACK",
    "versions.start_finetune": "RATELIMIT_FEEDBACK",
    "rounds.send_drawing": "RATELIMIT_FEEDBACK",
}


def client_key() -> str:
    address = request.remote_addr or "unknown"
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address
    if parsed.version == 6:
        if parsed.ipv4_mapped is not None:
            return str(parsed.ipv4_mapped)
        return str(ipaddress.ip_network(f"{parsed}/{IPV6_CLIENT_PREFIX}", strict=False))
    return str(parsed)


def retry_after_only_on_refusals(response: Response) -> Response:
    """`Retry-After` on a refusal to come back later (429, 503) and on nothing else: Flask-Limiter puts its
    window's reset on every answer it counts, and a 200 telling clients to retry would be read as one (the
    X-RateLimit-* headers stay, for clients that pace themselves). The moving window rounds the wait down, to 0
    in its last second: "retry now" would be refused, so a 429 says at least 1."""
    if response.status_code not in RETRY_LATER:
        response.headers.pop("Retry-After", None)
    elif response.status_code == 429 and response.headers.get("Retry-After", "1") == "0":
        response.headers["Retry-After"] = "1"
    return response


def init_app(app: Flask) -> Limiter:
    """Limit every endpoint registered so far; call it after the blueprints are registered."""
    hops = app.config.get("TRUSTED_PROXIES", 0)
    if hops:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)
    app.after_request(retry_after_only_on_refusals)   # runs after the limiter's own headers
    if app.config["RATELIMIT_STORAGE_URI"] == f"{machine_counters.SCHEME}://":
        path = machine_counters.default_path(app.config["DATABASE"])
        app.config["RATELIMIT_STORAGE_URI"] = machine_counters.uri_for(path)
    # A shared store (Redis) that cannot be reached must not fail requests: each process then counts in
    # memory until it is back.
    limiter = Limiter(client_key, app=app, headers_enabled=True, strategy="moving-window",
                      key_prefix="digitdraw", in_memory_fallback_enabled=True, swallow_errors=True,
                      default_limits_exempt_when=lambda: request.endpoint == "static")
    for endpoint, setting in ENDPOINT_LIMITS.items():
        limits = limiter.limit(lambda setting=setting: current_app.config[setting])
        app.view_functions[endpoint] = limits(app.view_functions[endpoint])
    app.extensions["rate_limiter"] = limiter   # the limited views hold it only by a weak reference
    return limiter
