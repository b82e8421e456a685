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
MAX_DIGITS = 16                  # number mode reads up to 16 digits: any phone number (15 at most)
MAX_STROKES = 96                 # ... drawn with up to 6 strokes each; more is noise, not a number


@dataclass
class Strokes:
    """Connected pieces of ink: a label image and OpenCV's statistics of each piece.

    The statistics stay one array (row = label) so that a noisy photo with thousands
    of specks costs a few vectorised operations, not a Python object per speck."""

    labels: np.ndarray           # int32, 0 = background, i = piece i
    stats: np.ndarray            # int32 rows of x, y, width, height, area; row 0 is the background
    stroke_width: float          # typical width of a stroke, in pixels

    def box(self, labels) -> tuple[int, int, int, int]:
        """The box around the pieces `labels` (one label or several)."""
        return union_box(self.stats[np.atleast_1d(labels), :4])

    def mask(self, labels, box) -> np.ndarray:
        """Where the pieces `labels` are, within `box`."""
        wanted = np.zeros(len(self.stats), bool)
        wanted[labels] = True
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
    if count == 1:
        return Strokes(labels, stats, 0.0)
    x, y, width, height = union_box(stats[1:, :4])
    return Strokes(labels, stats, stroke_width(mask[y:y + height, x:x + width]))


def without_specks(strokes: Strokes) -> np.ndarray:
    """Labels of the pieces that are real strokes, not specks far smaller than a stroke."""
    pieces = strokes.stats[1:]
    if not len(pieces):
        return np.zeros(0, np.intp)
    extent = np.maximum(pieces[:, cv2.CC_STAT_WIDTH], pieces[:, cv2.CC_STAT_HEIGHT])
    area = pieces[:, cv2.CC_STAT_AREA]
    real = (extent > SPECK_EXTENT * strokes.stroke_width) & (area >= SPECK_AREA * area.max())
    return np.flatnonzero(real) + 1


def union_box(boxes) -> tuple[int, int, int, int]:
    """The box around (x, y, width, height) boxes, given as rows of an array or a list of tuples."""
    boxes = np.asarray(boxes)
    left, top = boxes[:, :2].min(axis=0)
    right, bottom = (boxes[:, :2] + boxes[:, 2:4]).max(axis=0)
    return int(left), int(top), int(right - left), int(bottom - top)


def is_too_small(box, image_shape) -> bool:
    return max(box[2], box[3]) < MIN_DIGIT_EXTENT * max(image_shape)


def horizontal_overlap(a, b) -> float:
    """Shared width of two boxes as a fraction of the narrower one."""
    shared = min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0])
    return max(0, shared) / max(1, min(a[2], b[2]))


@dataclass
class Group:
    """Strokes read as one digit, and the box around them."""

    box: tuple[int, int, int, int]
    members: list[int]

    def ends_before(self, x: int) -> bool:
        return self.box[0] + self.box[2] <= x


def digits_left_to_right(strokes: Strokes, labels) -> list[list[int]]:
    """Group strokes into digits by horizontal overlap, left to right.

    Strokes are taken by their left edge; each joins the first group (oldest first) that
    it overlaps by SAME_DIGIT_OVERLAP, or starts a new one. Groups therefore start in
    left-edge order, which is the order of the answer. A group that ends left of a
    stroke's left edge shares no width with it nor with any later stroke, so only the
    groups still open are compared: the work grows with the strokes, not strokes x groups."""
    groups: list[Group] = []
    still_open: list[Group] = []
    for label in sorted(labels, key=lambda label: strokes.stats[label, cv2.CC_STAT_LEFT]):
        box = strokes.box(label)
        still_open = [group for group in still_open if not group.ends_before(box[0])]
        group = next((group for group in still_open if horizontal_overlap(group.box, box) >= SAME_DIGIT_OVERLAP),
                     None)
        if group is None:
            group = Group(box, [])
            groups.append(group)
            still_open.append(group)
        else:
            group.box = union_box([group.box, box])
        group.members.append(int(label))
    return [group.members for group in groups]
