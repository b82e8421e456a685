"""Which inked pixels belong to which digit: connected strokes, specks, digits.

An ink map is split into connected strokes; specks (dust, JPEG noise, a tap of
the finger) are dropped because they are far smaller than a stroke; in number
mode the strokes that overlap horizontally (the two strokes of a 4, the flag of
a 5, the bar of a 7) are grouped into one digit, and digits are read left to right.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

STROKE_THRESHOLD = 0.35          # ink level that counts as part of a stroke
SPECK_EXTENT = 1.8               # a piece no longer than this many stroke widths is a speck or a dot
SPECK_AREA = 0.01                # ... and so is a piece with less than 1% of the largest piece's ink
MIN_DIGIT_EXTENT = 0.03          # a drawing smaller than 3% of the image is nothing drawn
SAME_DIGIT_OVERLAP = 0.5         # strokes sharing half the narrower one's width are one digit


@dataclass
class Strokes:
    """Connected pieces of ink: a label image and each piece's box and area."""

    labels: np.ndarray           # int32, 0 = background, i = piece i
    boxes: dict[int, tuple[int, int, int, int]]   # label -> (x, y, width, height)
    areas: dict[int, int]
    stroke_width: float          # typical width of a stroke, in pixels

    def mask(self, labels, box) -> np.ndarray:
        """Where the pieces `labels` are, within `box`."""
        wanted = np.zeros(len(self.areas) + 1, bool)
        wanted[list(labels)] = True
        x, y, width, height = box
        return wanted[self.labels[y:y + height, x:x + width]]


def stroke_width(mask: np.ndarray) -> float:
    """Typical stroke width: across a band of width w the distance to its edge averages w/4.
    The mask is padded so that ink touching its border still has an edge there."""
    if not mask.any():
        return 0.0
    padded = cv2.copyMakeBorder(mask.view(np.uint8), 1, 1, 1, 1, cv2.BORDER_CONSTANT, value=0)
    distance = cv2.distanceTransform(padded, cv2.DIST_L2, cv2.DIST_MASK_5)
    return max(1.0, 4.0 * (float(distance[1:-1, 1:-1][mask].mean()) - 0.5))


def strokes_of(ink: np.ndarray) -> Strokes:
    """Label the connected pieces of ink (8-connected, like a pen line on a pixel grid)."""
    mask = ink > STROKE_THRESHOLD
    count, labels, stats, _ = cv2.connectedComponentsWithStats(mask.view(np.uint8), connectivity=8)
    boxes = {i: tuple(int(v) for v in stats[i, :4]) for i in range(1, count)}
    areas = {i: int(stats[i, cv2.CC_STAT_AREA]) for i in range(1, count)}
    if not boxes:
        return Strokes(labels, boxes, areas, 0.0)
    x, y, width, height = union_box(boxes.values())
    return Strokes(labels, boxes, areas, stroke_width(mask[y:y + height, x:x + width]))


def without_specks(strokes: Strokes) -> list[int]:
    """Labels of the pieces that are real strokes, not specks far smaller than a stroke."""
    if not strokes.areas:
        return []
    largest = max(strokes.areas.values())
    return [label for label, (_, _, width, height) in strokes.boxes.items()
            if max(width, height) > SPECK_EXTENT * strokes.stroke_width
            and strokes.areas[label] >= SPECK_AREA * largest]


def union_box(boxes) -> tuple[int, int, int, int]:
    boxes = list(boxes)
    left = min(x for x, _, _, _ in boxes)
    top = min(y for _, y, _, _ in boxes)
    right = max(x + w for x, _, w, _ in boxes)
    bottom = max(y + h for _, y, _, h in boxes)
    return left, top, right - left, bottom - top


def is_too_small(box, image_shape) -> bool:
    return max(box[2], box[3]) < MIN_DIGIT_EXTENT * max(image_shape)


def horizontal_overlap(a, b) -> float:
    """Shared width of two boxes as a fraction of the narrower one."""
    shared = min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0])
    return max(0, shared) / max(1, min(a[2], b[2]))


def digits_left_to_right(strokes: Strokes, labels: list[int]) -> list[list[int]]:
    """Group strokes into digits by horizontal overlap, sorted by their left edge."""
    groups: list[tuple[tuple[int, int, int, int], list[int]]] = []
    for label in sorted(labels, key=lambda label: strokes.boxes[label][0]):
        box = strokes.boxes[label]
        for index, (group_box, members) in enumerate(groups):
            if horizontal_overlap(group_box, box) >= SAME_DIGIT_OVERLAP:
                groups[index] = (union_box([group_box, box]), members + [label])
                break
        else:
            groups.append((box, [label]))
    return [members for _, members in sorted(groups, key=lambda group: group[0][0])]
