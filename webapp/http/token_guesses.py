"""Wrong teacher tokens count against the sign-in limit, however they are sent.

The sign-in form is limited (RATELIMIT_FEEDBACK per client: 5 a second, 60 a minute, 1,000 an hour), but a
script could guess the token through `Authorization: Bearer` on any teacher API at the default limit, about
4,000 a minute. Every wrong token (the form's, a Bearer header's) and every teacher cookie that no longer
signs anyone in (signed out, expired, made for an earlier token) is one guess here, counted per client in
the same storage as every other limit (shared by the machine's workers, or by every instance through Redis).
Each token is counted before it is compared, and a client out of guesses is refused with 429 without a
comparison, a right token too: otherwise the answer to the next guess (429 or 200) would still tell a right
token from a wrong one. A right token (a teacher's script) clears the client's count.
"""

from __future__ import annotations

import logging
import time

from flask import current_app
from limits import parse_many
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

from webapp.http.errors import ApiError
from webapp.http.ratelimits import client_key

SCOPE = "teacher-token-guesses"
LIMITS_SETTING = "RATELIMIT_FEEDBACK"   # the sign-in limit

log = logging.getLogger("digitdraw")


class TooManyGuesses(ApiError):
    def __init__(self, retry_after: int):
        super().__init__(429, "Too many wrong teacher tokens from your address: wait a moment before trying again.")
        self.retry_after = retry_after


def strategies():
    """The limiter's own counters, then this process's memory while they cannot be used (as Flask-Limiter
    falls back for every other limit)."""
    limiter = current_app.extensions.get("rate_limiter")
    if limiter is not None:
        yield limiter.limiter
    fallback = current_app.extensions.setdefault("token_guesses_fallback", MovingWindowRateLimiter(MemoryStorage()))
    yield fallback


def checked(action):
    """`action(strategy, limit)` for every limit of the setting, on the first counters that answer."""
    limits = parse_many(current_app.config[LIMITS_SETTING])
    for strategy in strategies():
        try:
            return [action(strategy, limit) for limit in limits]
        except Exception as error:   # a storage's own errors: Redis gone, the counters file unwritable
            log.warning("token guesses counted in this process's memory: %s", error)
    raise AssertionError("the in-memory counters always answer")


def take_guess() -> None:
    """Count the token this request presents as one guess, before it is compared: 429 (and no comparison) when
    the client has no guess left. Counting first means parallel guesses cannot all pass a check before any is
    counted (with Redis, gevent switches between requests at every round trip)."""
    if not current_app.config.get("RATELIMIT_ENABLED", True):
        return
    key = client_key()
    if all(checked(lambda strategy, limit: strategy.hit(limit, SCOPE, key))):
        return
    log.warning("teacher token guesses refused: too many from %s", key)
    windows = checked(lambda strategy, limit: strategy.get_window_stats(limit, SCOPE, key))
    raise TooManyGuesses(wait_seconds([stats for stats in windows if stats.remaining <= 0] or windows))


def forget_guesses() -> None:
    """The token was right: this client's guesses no longer count (a teacher's script is never slowed down)."""
    if current_app.config.get("RATELIMIT_ENABLED", True):
        key = client_key()
        checked(lambda strategy, limit: strategy.clear(limit, SCOPE, key))


def wait_seconds(windows) -> int:
    """Seconds until the fullest window lets one more guess in."""
    return max(1, int(max(stats.reset_time for stats in windows) - time.time() + 0.999))
