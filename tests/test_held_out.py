"""The held-out rule (webapp/store/held_out.py): which collected drawings a fine-tuning run only scores."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from webapp.store.held_out import MIN_DRAWINGS, MIN_HELD_OUT, choose_held_out, held_out_count, run_possible


def held_ids(ids, labels, writers, learnt=(), held_before=()) -> set[int]:
    return set(np.asarray(ids)[choose_held_out(ids, labels, writers, learnt, held_before)].tolist())


classes = st.integers(min_value=MIN_DRAWINGS + 1, max_value=90).flatmap(lambda n: st.tuples(
    st.lists(st.integers(1, 10**6), min_size=n, max_size=n, unique=True),
    st.lists(st.integers(0, 9), min_size=n, max_size=n),
    st.lists(st.sampled_from([f"student-{i}" for i in range(8)] + [None]), min_size=n, max_size=n)))


@settings(max_examples=150, deadline=None)
@given(classes, st.data())
def test_deleting_any_one_drawing_never_makes_a_possible_run_impossible(drawings, data):
    ids, labels, writers = drawings
    assert run_possible(len(ids))
    gone = data.draw(st.integers(0, len(ids) - 1))
    rest = [np.delete(np.asarray(column, dtype=object), gone).tolist() for column in (ids, labels, writers)]
    before = held_ids(ids, labels, writers)
    held = choose_held_out(*rest, held_before=before)
    assert run_possible(len(rest[0]))
    assert held.sum() >= MIN_HELD_OUT and (~held).sum() >= MIN_DRAWINGS - held_out_count(MIN_DRAWINGS)
    # The next run holds out what the last one did, but for the deleted drawing and one more when a fifth
    # of one drawing fewer is one fewer; a drawing it trained on (the rest) is held out only to replace them.
    after = set(np.asarray(rest[0])[held].tolist())
    kept = before - {ids[gone]}
    assert len(kept - after) <= 1
    assert len(after - kept) <= (1 if ids[gone] in before else 0)


@settings(max_examples=100, deadline=None)
@given(classes, st.randoms(use_true_random=False))
def test_the_choice_depends_on_the_drawings_not_their_order(drawings, random):
    ids, labels, writers = drawings
    order = list(range(len(ids)))
    random.shuffle(order)
    shuffled = [[column[i] for i in order] for column in (ids, labels, writers)]
    assert held_ids(ids, labels, writers) == held_ids(*shuffled)


def test_a_fifth_is_held_out_with_at_least_four():
    assert [held_out_count(n) for n in (20, 21, 30, 34, 50, 1000)] == [4, 4, 6, 7, 10, 200]
    assert not run_possible(MIN_DRAWINGS - 1) and run_possible(MIN_DRAWINGS)


def test_every_label_and_every_student_is_held_out_where_possible():
    """8 students each draw the digits 0-4 once: 40 drawings, 8 held out, every digit and every student among
    them; 50 drawings of 10 digits by 5 students: one of each digit, two of each student."""
    labels = [digit for _ in range(8) for digit in range(5)]
    writers = [f"student-{s}" for s in range(8) for _ in range(5)]
    held = choose_held_out(np.arange(1, 41), labels, writers)
    assert held.sum() == 8
    assert {labels[i] for i in np.flatnonzero(held)} == set(range(5))
    assert {writers[i] for i in np.flatnonzero(held)} == set(writers)

    labels = [digit for digit in range(10) for _ in range(5)]
    writers = [f"student-{s}" for _ in range(10) for s in range(5)]
    held = np.flatnonzero(choose_held_out(np.arange(100, 150), labels, writers))
    assert sorted(labels[i] for i in held) == list(range(10))
    assert sorted(writers[i] for i in held) == sorted([f"student-{s}" for s in range(5)] * 2)


def test_drawings_an_earlier_version_learnt_from_are_held_out_only_when_there_are_not_enough_others():
    ids = np.arange(1, 61)
    labels = ids % 10
    learnt = set(range(1, 41))                     # version 2 learnt from the first 40
    held = held_ids(ids, labels, None, learnt)
    assert len(held) == 12 and not held & learnt   # 20 new drawings are enough for 12
    held = held_ids(ids[:45], labels[:45], None, learnt)
    assert len(held) == 9 and len(held & learnt) == 4   # 5 new ones, then 4 it learnt from


def test_the_drawings_held_out_before_are_held_out_again_as_the_class_adds_more():
    rng = np.random.default_rng(7)
    labels, writers = rng.integers(0, 10, 200), [f"student-{i}" for i in rng.integers(0, 8, 200)]
    first = held_ids(np.arange(1, 31), labels[:30], writers[:30])
    trained = set(range(1, 31)) - first
    second = held_ids(np.arange(1, 201), labels, writers, learnt=trained, held_before=first)
    assert first <= second and len(second) == 40 and not second & trained


def test_a_script_flooding_one_label_does_not_crowd_the_class_out_of_the_check():
    """One address sends 200 drawings labelled 1; the class sends 40 of every digit: the held-out drawings
    follow the labels' shares, and the class's students are all among them."""
    labels = [1] * 200 + [digit for digit in range(10) for _ in range(4)]
    writers = ["script"] * 200 + [f"student-{i % 8}" for i in range(40)]
    held = np.flatnonzero(choose_held_out(np.arange(1, 241), labels, writers))
    assert len(held) == 48
    assert {writers[i] for i in held} >= {f"student-{i}" for i in range(8)}
    assert set(range(10)) <= {labels[i] for i in held}


def test_a_rounds_fixed_fifth_is_held_out_as_fixed_and_the_rule_splits_the_others():
    from webapp.store.held_out import split

    ids = np.arange(1, 61)
    labels = ids % 10
    writers = [f"w{i % 6}" for i in ids]
    fixed = np.full(60, -1, np.int8)
    fixed[:20] = 0          # a round's drawings it lets runs learn from
    fixed[[3, 8, 13]] = 1   # and its held-out ones
    held = split(ids, labels, writers, fixed)
    assert held[[3, 8, 13]].all() and not held[[i for i in range(20) if i not in (3, 8, 13)]].any()
    free = np.arange(20, 60)
    assert held[free].sum() == held_out_count(40)   # the others: a fifth of them, as choose_held_out says
    assert np.array_equal(held[free], choose_held_out(ids[free], labels[free], [writers[i] for i in free]))
    assert np.array_equal(split(ids, labels, writers), choose_held_out(ids, labels, writers))   # no round: as before
