"""A round as server-sent events, for the walls that follow it (GET /api/rounds/<id>/events).

Every worker and instance reads the same store, so a wall follows what was sent to any of them: each stream
reads the round's drawings newer than the last one it sent, the round's state and what the teacher hid, every
POLL_SECONDS (one indexed read of a few rows; the store is the one place the class's drawings are, so a
drawing a wall shows is a drawing that was kept). Events:

    event: drawing   id: <the drawing's id>   data: the tile (every model's reading, label, nickname, ...)
    event: hidden    data: {"id": <drawing id>}                  (no id: line, so Last-Event-ID stays a drawing's)
    event: state     data: the round (state, changes, ...)       (also first, on every (re)connection)
    event: deleted   data: {"id": <round id>}                    then the stream ends

A wall that reconnects sends `Last-Event-ID` (the browser's EventSource does it by itself) and gets the
drawings after it, every hidden id again and the state: nothing lost, nothing twice. A stream ends after
STREAM_SECONDS (the browser reconnects at once), a comment every HEARTBEAT_SECONDS keeps proxies from closing
it and finds a client that left. Streams are counted per worker: at most PER_ADDRESS per client address and
MOST_AT_ONCE in all, past which a 503 says so; each costs a greenlet and a read every POLL_SECONDS.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter

from flask import Response, current_app, request

from webapp.http.errors import ApiError
from webapp.http.ratelimits import client_key
from webapp.http.requests import served_versions
from webapp.store import get_store
from webapp.store.refusals import StoreRefused
from webapp.store.rounds import NoSuchRound, RoundDrawing, Rounds
from webapp.vision.images import png_data_url

POLL_SECONDS = 0.25
HEARTBEAT_SECONDS = 15.0
STREAM_SECONDS = 300.0
RETRY_MS = 1000           # how soon a browser reconnects after a stream ends or drops
PER_ADDRESS = 8           # per worker: a teacher's walls and a few reconnections overlapping
MOST_AT_ONCE = 200        # per worker


class Busy(ApiError):
    def __init__(self, message: str):
        super().__init__(503, message)
        self.retry_after = 5


class Streams:
    """The streams one app (one worker) holds, per client address, within PER_ADDRESS and MOST_AT_ONCE."""

    def __init__(self):
        self.open: Counter[str] = Counter()
        self.lock = threading.Lock()

    def take_place(self, address: str) -> None:
        with self.lock:
            if sum(self.open.values()) >= MOST_AT_ONCE:
                raise Busy("The server follows as many live walls as it can: close one and try again.")
            if self.open[address] >= PER_ADDRESS:
                raise Busy(f"Your address already follows {PER_ADDRESS} live walls on this server: close one first.")
            self.open[address] += 1

    def leave_place(self, address: str) -> None:
        with self.lock:
            self.open[address] -= 1
            if self.open[address] <= 0:
                del self.open[address]


def tile_json(drawing: RoundDrawing, script_root: str) -> dict:
    """A drawing as a wall's tile: every model's reading, the 28x28 input, where its kept image is (the
    teacher's GET /api/drawings/<id>/original, under the app's `script_root`)."""
    return {**drawing.as_json(), "input": png_data_url(drawing.pixels),
            "image": f"{script_root}/api/drawings/{drawing.id}/original"}


def event(name: str, data, event_id: int | None = None) -> str:
    head = f"id: {event_id}\n" if event_id is not None else ""
    return f"{head}event: {name}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n"


def stream(round_id: int, last_id: int) -> Response:
    address = client_key()
    streams = current_app.extensions.setdefault("round_streams", Streams())
    streams.take_place(address)
    # Everything the stream needs, taken now: it runs after the request's context has gone.
    rounds, script_root, logger = Rounds(get_store(), served_versions()), request.script_root, current_app.logger

    def events():
        after, changes, hidden = last_id, None, set()
        started = last_beat = time.monotonic()
        yield f"retry: {RETRY_MS}\n\n"
        while time.monotonic() - started < STREAM_SECONDS:
            try:
                found = rounds.get(round_id)
                if found.changes != changes:
                    for drawing_id in sorted(set(rounds.hidden(round_id)) - hidden):
                        hidden.add(drawing_id)
                        yield event("hidden", {"id": drawing_id})
                    changes = found.changes
                    yield event("state", found.as_json())
                for drawing in rounds.drawings(round_id, after, limit=200):
                    after = drawing.id
                    yield event("drawing", tile_json(drawing, script_root), drawing.id)
            except NoSuchRound:
                yield event("deleted", {"id": round_id})
                return
            except StoreRefused as refused:
                logger.warning("round %d stream: %s", round_id, refused)
            if time.monotonic() - last_beat >= HEARTBEAT_SECONDS:
                last_beat = time.monotonic()
                yield ": still here\n\n"
            time.sleep(POLL_SECONDS)

    response = Response(events(), mimetype="text/event-stream")
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Accel-Buffering"] = "no"   # nginx passes each event on at once
    response.call_on_close(lambda: streams.leave_place(address))   # also when the stream never started
    return response
