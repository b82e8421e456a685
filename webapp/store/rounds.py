"""The class's rounds in the store, shared by every worker and instance that uses it.

A round asks the whole class for something: "Draw a 4" (kind `digit`, the label is the digit) or "Draw any
digit" (kind `any`, each student says which); a `fool` round asks for a drawing a person reads as that digit
and the model does not (the label is still what a person reads: the drawing teaches the model). One round is
open or paused at a time (checked inside the write transaction, under the store's one lock, so two teachers'
presses on two instances cannot open two). Drawings
sent in a round are kept in the drawings table with the round's id and the device's nickname, so the class's
drawings, fine-tuning and the exports see them like any other, each marked on arrival as one of the round's
fixed held-out fifth or not (webapp/store/held_out.py); hiding one deletes it and records that it was
hidden, so a wall that was away learns it. Every state change and hidden drawing bumps the round's `changes`,
which is what walls following the round compare (webapp/http/round_events.py).
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass

import numpy as np
import sqlalchemy as sa

from webapp.mnist_format import CLASSES
from webapp.sentences import N_
from webapp.store.drawings import NewDrawing, Store, delete_drawing, input_sha256, pixels_from_blob
from webapp.store.held_out import round_turn_held_out
from webapp.store.refusals import StoreRefused
from webapp.store.schema import answers, drawings, round_devices, round_hidden, rounds

KINDS = ("digit", "any")
LIVE_STATES = ("open", "paused")
# Why a round takes no drawing, by its state (one sentence each, so each language can say it its own way).
NOT_TAKING = {"paused": N_("Round %(round)s is paused: drawings are not taken now."),
              "ended": N_("Round %(round)s is ended: drawings are not taken now.")}
DEVICE_SEEN_SECONDS = 15.0   # a device that asked for the round this recently is following it
MOST_DEVICES = 1000          # devices counted per round: a school's largest room many times over


class RoundConflict(StoreRefused):
    """Another round is open, or this one does not take drawings now."""

    status = 409


class NoSuchRound(StoreRefused):
    status = 404


@dataclass
class Round:
    id: int
    kind: str
    digit: int | None
    state: str
    started: float
    ended: float | None
    changes: int
    fool: bool = False

    def as_json(self) -> dict:
        return {**asdict(self), "fool": bool(self.fool), "prompt": self.prompt}

    @property
    def prompt(self) -> str:
        article = "an" if self.digit == 8 else "a"
        if self.fool:
            return f"Fool the model with {article} {self.digit}" if self.kind == "digit" else \
                "Fool the model with any digit"
        if self.kind != "digit":
            return "Draw any digit"
        return f"Draw {article} {self.digit}"


@dataclass
class RoundDrawing:
    """A drawing of a round as a wall shows it (no image: the wall asks for that apart)."""

    id: int
    round: int
    created: str
    label: int
    digit: int | None           # the served model's reading when it was sent
    confidence: float | None
    model: str | None
    model_version: str | None
    nickname: str | None
    answers: dict[str, int]     # every model's reading, by model name
    pixels: np.ndarray
    held_out: bool | None = None   # one of the round's fixed fifth, never learnt from

    def as_json(self) -> dict:
        data = asdict(self)
        del data["pixels"]
        data["right"] = self.digit == self.label if self.digit is not None else None
        return data


ROUND_COLUMNS = (rounds.c.id, rounds.c.kind, rounds.c.digit, rounds.c.state, rounds.c.started, rounds.c.ended,
                 rounds.c.changes, rounds.c.fool)


class Rounds:
    """`served`: each model's served version (model name -> version), whose readings the tiles and the report
    show when a model has several versions' answers."""

    def __init__(self, store: Store, served: dict[str, str] | None = None):
        self.store = store
        self.served = served or {}

    def start(self, kind: str, digit: int | None, fool: bool = False) -> Round:
        """A new open round; RoundConflict while another is open or paused."""
        if kind not in KINDS:
            raise ValueError(kind)

        def insert(connection) -> int:
            live = connection.execute(sa.select(rounds.c.id).where(rounds.c.state.in_(LIVE_STATES))).first()
            if live:
                raise RoundConflict(N_("Round %(round)s is still going: end it before starting another."),
                                    round=live[0])
            return connection.execute(rounds.insert().values(kind=kind, digit=digit, state="open", fool=fool,
                                                             started=time.time(), changes=0, sent=0)
                                      .returning(rounds.c.id)).scalar_one()

        return self.get(self.store.transaction(insert))

    def get(self, round_id: int) -> Round:
        rows = self.store.read(sa.select(*ROUND_COLUMNS).where(rounds.c.id == round_id))
        if not rows:
            raise NoSuchRound(N_("There is no round %(round)s."), round=round_id)
        return Round(*rows[0])

    def current(self) -> Round | None:
        """The open or paused round, if there is one."""
        rows = self.store.read(sa.select(*ROUND_COLUMNS).where(rounds.c.state.in_(LIVE_STATES))
                               .order_by(rounds.c.id.desc()).limit(1))
        return Round(*rows[0]) if rows else None

    def all(self) -> list[tuple[Round, int]]:
        """Every round, newest first, with how many drawings it kept (one grouped read)."""
        sent = (sa.select(drawings.c.round_id, sa.func.count().label("sent")).where(drawings.c.round_id.is_not(None))
                .group_by(drawings.c.round_id).subquery())
        rows = self.store.read(sa.select(*ROUND_COLUMNS, sa.func.coalesce(sent.c.sent, 0))
                               .outerjoin(sent, sent.c.round_id == rounds.c.id).order_by(rounds.c.id.desc()))
        return [(Round(*row[:-1]), row[-1]) for row in rows]

    def count(self, round_id: int) -> int:
        """How many drawings the round keeps (read through the rounds' index)."""
        return self.store.read(sa.select(sa.func.count()).select_from(drawings)
                               .where(drawings.c.round_id == round_id))[0][0]

    def set_state(self, round_id: int, state: str) -> Round:
        """Pause, resume or end a round; ending an ended round changes nothing; an ended one stays ended."""
        def change(connection) -> None:
            row = connection.execute(sa.select(rounds.c.state).where(rounds.c.id == round_id)).first()
            if row is None:
                raise NoSuchRound(N_("There is no round %(round)s."), round=round_id)
            if row[0] == state:
                return
            if row[0] == "ended":
                raise RoundConflict(N_("Round %(round)s has ended: start a new one."), round=round_id)
            values = {"state": state, "changes": rounds.c.changes + 1}
            if state == "ended":
                values["ended"] = time.time()
            connection.execute(rounds.update().where(rounds.c.id == round_id).values(**values))

        self.store.transaction(change)
        return self.get(round_id)

    def check_open(self, round_id: int) -> Round:
        """The round, when it takes drawings now; RoundConflict (409) when it is paused or ended."""
        found = self.get(round_id)
        if found.state != "open":
            raise RoundConflict(NOT_TAKING[found.state], round=round_id)
        return found

    def add_drawing(self, drawing: NewDrawing) -> int:
        """Keep a drawing sent to its round, checking in the same transaction that the round is still open
        (the teacher may have ended, paused or deleted it while the models read the drawing) and giving it
        the round's next turn, which says whether it is held out (undone with the transaction when the drawing
        is not kept)."""
        def still_open(connection) -> None:
            row = connection.execute(sa.select(rounds.c.state).where(rounds.c.id == drawing.round_id)).first()
            if row is None:
                raise NoSuchRound(N_("There is no round %(round)s."), round=drawing.round_id)
            if row[0] != "open":
                raise RoundConflict(NOT_TAKING[row[0]], round=drawing.round_id)
            turn = connection.execute(rounds.update().where(rounds.c.id == drawing.round_id)
                                      .values(sent=rounds.c.sent + 1).returning(rounds.c.sent)).scalar_one()
            drawing.held_out = round_turn_held_out(turn)

        [drawing_id] = self.store.add(drawing, check=still_open)
        return drawing_id

    def sent_already(self, round_id: int, nickname: str, pixels: np.ndarray) -> RoundDrawing | None:
        """The drawing this device sent to this round with exactly this input, if it did (a resend after an
        answer lost on the wifi)."""
        rows = self.store.read(sa.select(drawings.c.id).where(drawings.c.input_sha256 == input_sha256(pixels),
                                                              drawings.c.round_id == round_id,
                                                              drawings.c.nickname == nickname))
        if not rows:
            return None
        found = self.drawings(round_id, rows[0][0] - 1, limit=1)
        return found[0] if found else None

    def drawings(self, round_id: int, after: int = 0, limit: int = 1000) -> list[RoundDrawing]:
        """The round's drawings with an id above `after`, oldest first, with every model's reading."""
        c = drawings.c
        rows = self.store.read(sa.select(c.id, c.round_id, c.created, c.label, c.prediction, c.probabilities,
                                         c.model, c.model_version, c.nickname, c.input, c.held_out)
                               .where(c.round_id == round_id, c.id > after).order_by(c.id).limit(limit))
        if not rows:
            return []
        readings = self.store.readings([row[0] for row in rows], self.served)
        found = []
        for row in rows:
            probabilities = None if row[5] is None else json.loads(row[5])
            confidence = None if probabilities is None or row[4] is None else probabilities[row[4]]
            found.append(RoundDrawing(id=row[0], round=row[1], created=row[2], label=row[3], digit=row[4],
                                      confidence=confidence, model=row[6], model_version=row[7], nickname=row[8],
                                      answers=readings[row[0]], pixels=pixels_from_blob(row[9]),
                                      held_out=row[10]))
        return found

    def hidden(self, round_id: int) -> list[int]:
        return [row[0] for row in self.store.read(sa.select(round_hidden.c.drawing_id)
                                                  .where(round_hidden.c.round_id == round_id))]

    def hide(self, round_id: int, drawing_id: int) -> bool:
        """Take a drawing out of the round and the store; False when the round has no such drawing."""
        def remove(connection) -> bool:
            found = connection.execute(sa.select(drawings.c.id).where(drawings.c.id == drawing_id,
                                                                      drawings.c.round_id == round_id)).first()
            if found is None:
                return False
            return delete_drawing(connection, drawing_id) == 1   # which records it as hidden

        return self.store.transaction(remove)

    def delete(self, round_id: int) -> int:
        """Delete a round with its drawings; how many drawings went."""
        self.get(round_id)

        def remove(connection) -> int:
            ids = connection.execute(sa.select(drawings.c.id).where(drawings.c.round_id == round_id)).scalars().all()
            deleted = sum(delete_drawing(connection, drawing_id) for drawing_id in ids)
            connection.execute(round_hidden.delete().where(round_hidden.c.round_id == round_id))
            connection.execute(round_devices.delete().where(round_devices.c.round_id == round_id))
            connection.execute(rounds.delete().where(rounds.c.id == round_id))
            return deleted

        return self.store.transaction(remove)

    def seen(self, round_id: int, device: str) -> None:
        """This device follows the round (asked for it just now)."""
        now = time.time()

        def record(connection) -> None:
            updated = connection.execute(round_devices.update().where(round_devices.c.round_id == round_id,
                                                                      round_devices.c.device == device)
                                         .values(seen=now)).rowcount
            if updated:
                return
            recorded = connection.execute(sa.select(sa.func.count()).select_from(round_devices)
                                          .where(round_devices.c.round_id == round_id)).scalar_one()
            if recorded < MOST_DEVICES:   # nicknames made up by a script cannot grow the table without end
                connection.execute(round_devices.insert().values(round_id=round_id, device=device, seen=now))

        self.store.transaction(record)

    def devices(self, round_id: int) -> int:
        """How many devices asked for the round in the last DEVICE_SEEN_SECONDS."""
        return self.store.read(sa.select(sa.func.count()).select_from(round_devices)
                               .where(round_devices.c.round_id == round_id,
                                      round_devices.c.seen > time.time() - DEVICE_SEEN_SECONDS))[0][0]

    def summary(self, round_id: int) -> dict:
        """Counts, each model's accuracy (its served version's answers), and the served model's confusion matrix
        on the round's drawings."""
        c = drawings.c
        sent, senders = self.store.read(sa.select(sa.func.count(), sa.func.count(sa.distinct(c.writer)))
                                        .where(c.round_id == round_id))[0]
        per_model: dict[str, list[int]] = {}
        query = (sa.select(answers.c.model, sa.func.sum(sa.case((answers.c.digit == c.label, 1), else_=0)),
                           sa.func.count())
                 .select_from(answers.join(drawings, drawings.c.id == answers.c.drawing_id))
                 .where(c.round_id == round_id).group_by(answers.c.model))
        if self.served:   # each model's served version only: an earlier one's answers are kept too
            query = query.where(sa.or_(*(sa.and_(answers.c.model == model, answers.c.version == version)
                                         for model, version in self.served.items())))
        for model, right, total in self.store.read(query):
            per_model[model] = [int(right), int(total)]
        matrix = np.zeros((CLASSES, CLASSES), np.int64)
        for label, digit, number in self.store.read(
                sa.select(c.label, c.prediction, sa.func.count()).where(c.round_id == round_id,
                                                                        c.prediction.is_not(None))
                .group_by(c.label, c.prediction)):
            matrix[label, digit] = number
        return {"sent": int(sent), "senders": int(senders), "devices": self.devices(round_id),
                "models": per_model, "confusion": matrix.tolist()}
