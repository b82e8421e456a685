"""Wrong teacher tokens count against the sign-in limit, however they are sent.

The sign-in form is limited (RATELIMIT_FEEDBACK per client: 5 a second, 60 a minute, 1,000 an hour), but a
script could guess the token through `Authorization: Bearer` on any teacher API at the default limit, about
4,000 a minute. Every wrong token (the form's, a Bearer header's) and every teacher cookie that no longer
signs anyone in (signed out, expired, made for an earlier token) is one guess here, counted per client in
the same storage as every other limit (shared by the machine's workers, or by every instance through Redis).
A client out of guesses is refused with 429 before its token is even compared, a right one too: otherwise
the answer to the next guess (429 or 200) would still tell a right token from a wrong one.
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


def refuse_when_out_of_guesses() -> None:
    """429 for a client that has used its guesses (before any token of it is compared)."""
    if not current_app.config.get("RATELIMIT_ENABLED", True):
        return
    windows = checked(lambda strategy, limit: (strategy.test(limit, SCOPE, client_key()),
                                               strategy.get_window_stats(limit, SCOPE, client_key())))
    refused = [stats for allowed, stats in windows if not allowed]
    if refused:
        raise TooManyGuesses(wait_seconds(refused))


def count_wrong_guess() -> None:
    """One more wrong token from this client; 429 when it was one too many."""
    if not current_app.config.get("RATELIMIT_ENABLED", True):
        return
    if not all(checked(lambda strategy, limit: strategy.hit(limit, SCOPE, client_key()))):
        log.warning("teacher token guesses refused: too many from %s", client_key())
        refuse_when_out_of_guesses()
        raise TooManyGuesses(1)


def wait_seconds(windows) -> int:
    """Seconds until the fullest window lets one more guess in."""
    return max(1, int(max(stats.reset_time for stats in windows) - time.time() + 0.999))
