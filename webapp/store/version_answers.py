"""Two versions of a model side by side on the class's drawings: what each read, and which drawings one reads
right and the other wrong (a round's replay after teaching, and the version diff on /drawings and /evaluate).

Each version's answer to each drawing is kept in the answers table, as the served versions' are when a drawing
is stored (webapp/store/drawing_scores.py): a version that has not read some drawings reads at most BUDGET of
them per request, newest first, and says how many are left, so the models' work per request is bounded (about
0.15 s for the CNN) and the next request (on any worker) goes on from there. Finding the unread drawings walks
the drawings newest first past those already read (an index probe each); the counts come from the confusion
counts every write keeps, and the comparison (a join of the two versions' answers) is made once both have
read everything.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import sqlalchemy as sa

from webapp.mnist_format import CLASSES
from webapp.store.drawings import ModelKey, Store, pixels_from_blob
from webapp.store.schema import answers, drawings

BUDGET = 500     # drawings one version reads per request
LISTED = 200     # changed drawings listed per direction (the counts cover all of them)


def catch_up(store: Store, key: ModelKey, classifier, rounds: list[int] | None = None,
             budget: int = BUDGET) -> int:
    """Let the version read up to `budget` drawings it has not read (of `rounds` only, when given); how many
    it read. StoreRefused when the store cannot take the answers (the caller says so: asking again would
    never end)."""
    ids, x, y = store.unanswered(key, budget, rounds)
    if not len(ids):
        return 0
    digits = classifier.predict(x.astype(np.float32) / 255.0).argmax(axis=1)
    store.add_answers(key, ids, y, digits)
    return len(ids)


def unread(store: Store, key: ModelKey, rounds: list[int] | None = None) -> int:
    """How many drawings (of `rounds`, when given) the version has not read yet: the store's count less the
    version's confusion counts (kept by every write), or two counts over the rounds' index."""
    if rounds is None:
        return max(0, store.count() - int(store.confusion(key).sum()))
    in_rounds = drawings.c.round_id.in_(rounds)
    total = store.read(sa.select(sa.func.count()).select_from(drawings).where(in_rounds))[0][0]
    read = store.read(sa.select(sa.func.count()).select_from(
        answers.join(drawings, drawings.c.id == answers.c.drawing_id))
        .where(answers.c.model == key[0], answers.c.version == key[1], in_rounds))[0][0]
    return max(0, total - read)


@dataclass(frozen=True)
class Pair:
    """One drawing read by two versions."""

    id: int
    round_id: int | None
    label: int
    old: int
    new: int
    held_out: bool | None

    @property
    def changed(self) -> str | None:
        """"right_to_wrong", "wrong_to_right", or None when it stays right or stays wrong."""
        if (self.old == self.label) == (self.new == self.label):
            return None
        return "right_to_wrong" if self.old == self.label else "wrong_to_right"


def both_read(old: ModelKey, new: ModelKey):
    """drawings joined to the two versions' answers (aliases `old` and `new`)."""
    old_answers, new_answers = answers.alias("old"), answers.alias("new")
    joined = drawings.join(old_answers, sa.and_(old_answers.c.drawing_id == drawings.c.id,
                                                old_answers.c.model == old[0], old_answers.c.version == old[1])) \
        .join(new_answers, sa.and_(new_answers.c.drawing_id == drawings.c.id,
                                   new_answers.c.model == new[0], new_answers.c.version == new[1]))
    return joined, old_answers, new_answers


def pairs(store: Store, old: ModelKey, new: ModelKey, round_id: int) -> list[Pair]:
    """The drawings of this round both versions read, oldest first."""
    joined, old_answers, new_answers = both_read(old, new)
    c = drawings.c
    rows = store.read(sa.select(c.id, c.round_id, c.label, old_answers.c.digit, new_answers.c.digit, c.held_out)
                      .select_from(joined).where(c.round_id == round_id).order_by(c.id))
    return [Pair(*row) for row in rows]


def per_round(store: Store, old: ModelKey, new: ModelKey, rounds: list[int]) -> dict[int, dict]:
    """For each of these rounds: drawings both versions read and how many each read right (one grouped read)."""
    joined, old_answers, new_answers = both_read(old, new)
    label = drawings.c.label
    rows = store.read(sa.select(drawings.c.round_id, sa.func.count(),
                                sa.func.sum(sa.case((old_answers.c.digit == label, 1), else_=0)),
                                sa.func.sum(sa.case((new_answers.c.digit == label, 1), else_=0)))
                      .select_from(joined).where(drawings.c.round_id.in_(rounds)).group_by(drawings.c.round_id))
    found = {round_id: {"drawings": 0, "old_right": 0, "new_right": 0} for round_id in rounds}
    for round_id, count, old_right, new_right in rows:
        found[round_id] = {"drawings": int(count), "old_right": int(old_right or 0), "new_right": int(new_right or 0)}
    return found


def per_digit(store: Store, old: ModelKey, new: ModelKey) -> list[dict]:
    """For each label 0-9: drawings both read, right by each, and the changes each way (one grouped read)."""
    joined, old_answers, new_answers = both_read(old, new)
    label = drawings.c.label
    old_right = sa.case((old_answers.c.digit == label, 1), else_=0)
    new_right = sa.case((new_answers.c.digit == label, 1), else_=0)
    rows = {row[0]: row[1:] for row in store.read(
        sa.select(label, sa.func.count(), sa.func.sum(old_right), sa.func.sum(new_right),
                  sa.func.sum(sa.case((sa.and_(old_answers.c.digit == label, new_answers.c.digit != label), 1),
                                      else_=0)),
                  sa.func.sum(sa.case((sa.and_(old_answers.c.digit != label, new_answers.c.digit == label), 1),
                                      else_=0)))
        .select_from(joined).group_by(label))}
    return [dict(zip(("digit", "read", "old_right", "new_right", "right_to_wrong", "wrong_to_right"),
                     (digit, *(int(value or 0) for value in rows.get(digit, (0, 0, 0, 0, 0))))))
            for digit in range(CLASSES)]


@dataclass(frozen=True)
class Changed:
    id: int
    label: int
    old: int
    new: int
    round_id: int | None
    pixels: np.ndarray


def changed(store: Store, old: ModelKey, new: ModelKey, direction: str, limit: int = LISTED) -> list[Changed]:
    """The newest `limit` drawings read right by one version and wrong by the other (`direction`
    "right_to_wrong" or "wrong_to_right")."""
    joined, old_answers, new_answers = both_read(old, new)
    label = drawings.c.label
    if direction == "right_to_wrong":
        condition = sa.and_(old_answers.c.digit == label, new_answers.c.digit != label)
    elif direction == "wrong_to_right":
        condition = sa.and_(old_answers.c.digit != label, new_answers.c.digit == label)
    else:
        raise ValueError(direction)
    c = drawings.c
    rows = store.read(sa.select(c.id, c.label, old_answers.c.digit, new_answers.c.digit, c.round_id, c.input)
                      .select_from(joined).where(condition).order_by(c.id.desc()).limit(limit))
    return [Changed(*row[:5], pixels_from_blob(row[5])) for row in rows]
