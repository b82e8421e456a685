"""Which collected drawings a fine-tuning run only scores and never learns from: the held-out drawings.

One rule for `flask finetune`, the teacher's page and `train.py --extra-data`, made for a class of a few
students as much as for a school's thousands of drawings:

- A run needs MIN_DRAWINGS drawings and holds out a fifth of them, at least MIN_HELD_OUT. Whether a run is
  possible depends on the number of drawings alone, so deleting one never makes a run impossible that was
  possible, as long as MIN_DRAWINGS remain.
- The held-out drawings are spread over the labels in proportion to how many each has (each label's next
  turn comes at (held out so far + 0.5) / its drawings: the Sainte-Lague method), and within a label over
  the students who drew them: the student with the fewest held-out drawings so far comes first.
- A class round fixes its own fifth as drawings arrive (the 3rd, 8th, 13th ... drawing it takes:
  `round_turn_held_out`), so a round taught and tested again is tested on the same drawings, never trained on,
  whichever run comes next; the rule below splits the other drawings.
- Drawings the versions before held out are held out again first, so the check stays the same run after run
  while the class adds drawings; then drawings no version learnt from, in an order fixed by a hash of each
  id (not by when drawings arrived or which were deleted). Drawings an earlier version learnt from are chosen
  only when there are not enough others (a test on training data flatters); the run reports how many.
"""

from __future__ import annotations

import heapq
from collections import defaultdict, deque
from collections.abc import Iterable

import numpy as np

MIN_DRAWINGS = 20
MIN_HELD_OUT = 4
HELD_OUT_SHARE = 0.2


def held_out_count(total: int) -> int:
    """How many of `total` drawings a run holds out: a fifth, at least MIN_HELD_OUT, never more than half."""
    return min(total // 2, max(MIN_HELD_OUT, int(total * HELD_OUT_SHARE + 0.5)))


def run_possible(total: int) -> bool:
    return total >= MIN_DRAWINGS


def order_key(ids: np.ndarray) -> np.ndarray:
    """A fixed pseudo-random number per drawing id (splitmix64): the same id always gets the same one."""
    with np.errstate(over="ignore"):
        z = np.asarray(ids, np.int64).astype(np.uint64) + np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return z ^ (z >> np.uint64(31))


ROUND_TURNS = 5              # a round holds out one drawing in ROUND_TURNS ...
ROUND_FIRST_HELD_OUT = 3     # ... from its 3rd: a round of 3 drawings already tests one


def round_turn_held_out(turn: int) -> bool:
    """Whether the `turn`-th drawing a round takes (1, 2, 3 ...) is one of its held-out fifth."""
    return turn % ROUND_TURNS == ROUND_FIRST_HELD_OUT % ROUND_TURNS


def split(ids: np.ndarray, labels: np.ndarray, writers: Iterable[str | None] | None = None,
          fixed: np.ndarray | None = None, learnt_before: Iterable[int] = (),
          held_before: Iterable[int] = ()) -> np.ndarray:
    """The held-out mask: drawings a round fixed (`fixed` 1 held out, 0 learnt from) as it fixed them, the
    others (-1) by `choose_held_out`."""
    ids = np.asarray(ids, np.int64)
    fixed = np.full(len(ids), -1, np.int8) if fixed is None else np.asarray(fixed, np.int8)
    held = fixed == 1
    free = np.flatnonzero(fixed == -1)
    if len(free):
        writers = list(writers) if writers is not None else [None] * len(ids)
        held[free] = choose_held_out(ids[free], np.asarray(labels)[free], [writers[i] for i in free],
                                     learnt_before, held_before)
    return held


def choose_held_out(ids: np.ndarray, labels: np.ndarray, writers: Iterable[str | None] | None = None,
                    learnt_before: Iterable[int] = (), held_before: Iterable[int] = ()) -> np.ndarray:
    """A boolean mask over the drawings: True for the ones held out (see the module's rule). `learnt_before`
    and `held_before`: the ids the served version and those it grew from learnt from and held out."""
    ids = np.asarray(ids, np.int64)
    labels = np.asarray(labels, np.int64)
    # Drawings without a writer (kept before writers were recorded) count as a writer each.
    writers = [("drawing", index) if writer is None else writer
               for index, writer in enumerate(writers if writers is not None else [None] * len(ids))]
    learnt = set(int(i) for i in learnt_before)
    held_again = set(int(i) for i in held_before) - learnt
    keys = order_key(ids)
    # Per label, the drawings in groups: held out before, then never learnt from, then learnt from.
    candidates: dict[int, list[list[tuple[int, int]]]] = defaultdict(lambda: [[], [], []])
    for index in np.argsort(keys, kind="stable").tolist():
        drawing = int(ids[index])
        group = 0 if drawing in held_again else 2 if drawing in learnt else 1
        candidates[int(labels[index])][group].append((int(keys[index]), index))
    sizes = {label: sum(map(len, groups)) for label, groups in candidates.items()}
    picks_per_writer: dict[object, int] = defaultdict(int)
    picks_per_label: dict[int, int] = defaultdict(int)
    pickers = {label: WriterBalancedQueue(groups, writers, picks_per_writer) for label, groups in candidates.items()}
    # Labels take turns by their next drawing's group, then Sainte-Lague's number, then how
    # many drawings its next writer has held out already (an entry that went stale is pushed again).
    def turn(label: int) -> tuple:
        group, writer_picks, key = pickers[label].head()
        return group, (picks_per_label[label] + 0.5) / sizes[label], writer_picks, key, label

    turns = [turn(label) for label in sizes]
    heapq.heapify(turns)
    held = np.zeros(len(ids), bool)
    for _ in range(held_out_count(len(ids))):
        while (entry := heapq.heappop(turns)) != (now := turn(entry[-1])):
            heapq.heappush(turns, now)
        label = entry[-1]
        index = pickers[label].pop()
        held[index] = True
        picks_per_writer[writers[index]] += 1
        picks_per_label[label] += 1
        if picks_per_label[label] < sizes[label]:
            heapq.heappush(turns, turn(label))
    return held


class WriterBalancedQueue:
    """One label's drawings, handed out so that the writer with the fewest held-out drawings (in any label)
    comes next; each writer's own drawings in the order to prefer (by group, then by key).

    A heap holds each writer's next drawing as (group, the writer's picks when pushed, key, writer); an entry
    whose writer was picked meanwhile in another label is pushed again with the new count when it surfaces."""

    def __init__(self, groups: list[list[tuple[int, int]]], writers: list, picks_per_writer: dict):
        self.picks = picks_per_writer
        self.queues: dict[object, deque] = defaultdict(deque)
        for group, members in enumerate(groups):
            for key, index in members:
                self.queues[writers[index]].append((group, key, index))
        self.slots = list(self.queues)
        self.heap = [(queue[0][0], 0, queue[0][1], slot) for slot, queue in enumerate(self.queues.values())]
        heapq.heapify(self.heap)

    def head(self) -> tuple[int, int, int]:
        """(group, its writer's held-out drawings, key) of the drawing `pop` would give now."""
        while True:
            group, picks, key, slot = self.heap[0]
            now = self.picks[self.slots[slot]]
            if now == picks:
                return group, picks, key
            heapq.heapreplace(self.heap, (group, now, key, slot))

    def pop(self) -> int:
        """The next drawing to hold out; the caller counts the pick for its writer."""
        self.head()
        _, picks, _, slot = heapq.heappop(self.heap)
        queue = self.queues[self.slots[slot]]
        _, _, index = queue.popleft()
        if queue:
            heapq.heappush(self.heap, (queue[0][0], picks + 1, queue[0][1], slot))
        return index
