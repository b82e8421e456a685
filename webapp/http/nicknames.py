"""Each student's device gets a random friendly nickname, kept in a cookie: rounds need no account and no name.

The nickname is two words and a number ("Brave Otter 27"): 30 x 30 x 90 = 81,000 of them, so two devices of a
class of thirty share one about once in 180 classes, and nothing in it says who holds the device. A cookie
the server did not make (any other text) is replaced by a new nickname, so nobody can put words of their own
on the class's wall. The nickname also names the device when the wall counts the devices following a round.
"""

from __future__ import annotations

import re
import secrets

from flask import Response, request

COOKIE = "digitdraw_nickname"
COOKIE_DAYS = 30
ADJECTIVES = ("Brave", "Bright", "Calm", "Clever", "Cosy", "Curious", "Daring", "Eager", "Fast", "Gentle",
              "Golden", "Happy", "Jolly", "Kind", "Lively", "Lucky", "Merry", "Mighty", "Nimble", "Proud",
              "Quick", "Quiet", "Shiny", "Silver", "Sleepy", "Smart", "Sunny", "Swift", "Witty", "Zesty")
ANIMALS = ("Badger", "Bear", "Beaver", "Bison", "Camel", "Crane", "Dolphin", "Eagle", "Falcon", "Fox",
           "Gecko", "Heron", "Koala", "Lemur", "Lion", "Lynx", "Moose", "Otter", "Owl", "Panda",
           "Parrot", "Penguin", "Puffin", "Rabbit", "Robin", "Seal", "Tiger", "Turtle", "Whale", "Zebra")
SHAPE = re.compile(rf"({'|'.join(ADJECTIVES)}) ({'|'.join(ANIMALS)}) ([1-9][0-9])")


def new_nickname() -> str:
    return f"{secrets.choice(ADJECTIVES)} {secrets.choice(ANIMALS)} {secrets.randbelow(90) + 10}"


NICKNAME = "digitdraw.nickname"   # this request's (nickname, given just now), kept in its WSGI environ


def device_nickname() -> str:
    """This device's nickname: its cookie's, or a new one that the answer sets (remember_nickname)."""
    if NICKNAME not in request.environ:
        given = request.cookies.get(COOKIE, "").replace("-", " ")   # the cookie has no spaces (no quoting)
        nickname = given if SHAPE.fullmatch(given) else new_nickname()
        request.environ[NICKNAME] = (nickname, nickname != given)
    return request.environ[NICKNAME][0]


def is_new() -> bool:
    """Did this request get its nickname just now (it sent no cookie the server made)?"""
    device_nickname()
    return request.environ[NICKNAME][1]


def remember_nickname(response: Response) -> Response:
    """Set the cookie when this request gave the device its nickname."""
    nickname, given_now = request.environ.get(NICKNAME, (None, False))
    if given_now:
        response.set_cookie(COOKIE, nickname.replace(" ", "-"), max_age=COOKIE_DAYS * 86400, httponly=True,
                            samesite="Lax", secure=request.is_secure)
    return response
