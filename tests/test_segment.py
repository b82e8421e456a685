"""Grouping strokes into digits: the linear grouping gives exactly what comparing every
stroke with every group gave, and noise costs vectorised work, not a Python object per speck."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from webapp.vision import segment


def every_stroke_with_every_group(boxes: dict[int, tuple[int, int, int, int]]) -> list[list[int]]:
    """The grouping rule before it was made linear, kept as the reference."""
    groups: list[tuple[tuple[int, int, int, int], list[int]]] = []
    for label in sorted(boxes, key=lambda label: boxes[label][0]):
        box = boxes[label]
        for index, (group_box, members) in enumerate(groups):
            if segment.horizontal_overlap(group_box, box) >= segment.SAME_DIGIT_OVERLAP:
                groups[index] = (segment.union_box([group_box, box]), members + [label])
                break
        else:
            groups.append((box, [label]))
    return [members for _, members in sorted(groups, key=lambda group: group[0][0])]


def strokes_with_boxes(boxes: list[tuple[int, int, int, int]]) -> segment.Strokes:
    """Strokes as `strokes_of` describes them: row 0 the background, row i piece i."""
    stats = np.array([(0, 0, 1, 1, 0)] + [(*box, box[2] * box[3]) for box in boxes], np.int32)
    return segment.Strokes(labels=np.zeros((1, 1), np.int32), stats=stats, stroke_width=2.0)


boxes_on_a_line = st.lists(st.tuples(st.integers(0, 300), st.integers(0, 50), st.integers(1, 80),
                                     st.integers(1, 80)), max_size=40)


@settings(max_examples=500, deadline=None)
@given(boxes_on_a_line)
def test_linear_grouping_matches_comparing_every_stroke_with_every_group(boxes):
    strokes = strokes_with_boxes(boxes)
    labels = np.arange(1, len(boxes) + 1)
    reference = every_stroke_with_every_group({label: boxes[label - 1] for label in labels.tolist()})
    assert segment.digits_left_to_right(strokes, labels) == reference


def test_thousands_of_specks_are_dropped_and_the_digit_kept():
    rng = np.random.default_rng(0)
    ink = (rng.random((480, 640)) > 0.97).astype(np.float32)   # about 9,000 one-pixel specks
    ink[96:404, 296:316] = 0.0
    ink[100:400, 300:312] = 1.0                                 # and one real stroke, a 1, clear of them
    strokes = segment.strokes_of(ink)
    assert len(strokes.stats) > 5000
    kept = segment.without_specks(strokes)
    assert len(kept) == 1
    assert strokes.box(kept) == (300, 100, 12, 300)
