"""From the bytes of any drawing or photo to what MNIST looks like.

MNIST digits are white ink on black, strokes about a seventh of the digit's
size wide, size-normalised so the longest side is 20 pixels, and centred by
centre of mass in a 28x28 field. Each step below is a small function so the
page can show the stages (`stages`).
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from webapp.mnist_format import CENTRE, DIGIT_BOX, IMAGE_SIDE
from webapp.sentences import N_, Count, Sentence
from webapp.vision import segment

MNIST_STROKE = (0.11, 0.3)          # stroke width / digit size: 85% of MNIST digits are above, 99.8% below
WORK_SIDE = 640                     # larger images are scaled down to this first: plenty for a digit
ALLOWED_FORMATS = ("PNG", "JPEG", "WEBP", "GIF", "BMP")   # JPEG includes phones' MPO files
EXIF_ORIENTATION = 0x0112           # orientations 5-8 turn the picture by 90 degrees
UNIFORM_BACKGROUND = 24             # border spread (of 255) below which the background is one colour
MIN_CONTRAST = 0.1                  # fainter than this is paper, not ink
LIGHTING_SIDE = 96                  # the lighting of a photo is estimated on a copy this small
SMALL_CROP = 64                     # crops smaller than this are enlarged before reshaping strokes
INK_HEIGHT = 96                     # ink at least twice this tall is averaged down by a whole factor
INK_MASS_KEPT = 0.98                # ... measuring the height of the rows holding 98% of the ink


class ImageRejected(Sentence, ValueError):
    """Input that is not a usable image; `status` is the HTTP status to answer with."""

    def __init__(self, message: str, status: int = 400, **values):
        super().__init__(message, **values)
        self.status = status


@dataclass
class Digit:
    box: tuple[int, int, int, int]   # x, y, width, height in the original image
    pixels: np.ndarray               # 28x28 float32 in [0, 1], white ink on black


# --- decoding -------------------------------------------------------------------------------

def decode(data: bytes, max_pixels: int) -> Image.Image:
    """Open the image, check its size before decoding, take frame 1, apply EXIF orientation.

    The result is L, LA, RGB or RGBA, at most WORK_SIDE pixels on its longest side;
    `image.info["source_size"]` keeps the original size so boxes can be given in its pixels.
    """
    if not data:
        raise ImageRejected(N_("The image is empty: no bytes were sent."))
    try:
        image = Image.open(io.BytesIO(data), formats=ALLOWED_FORMATS)
    except Image.DecompressionBombError:
        raise ImageRejected(N_("The image has far too many pixels to be a drawing."), status=413) from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
        raise ImageRejected(N_("This is not an image we can read. Send a PNG, JPEG, WebP, GIF or BMP."),
                            status=415) from None
    width, height = image.size
    if width * height > max_pixels:
        raise ImageRejected(N_("The image is %(width)sx%(height)s pixels; the limit is %(limit)s pixels."),
                            status=413, width=width, height=height, limit=Count(max_pixels))
    try:
        image.seek(0)
        if image.format in ("JPEG", "MPO"):
            image.draft(image.mode, (WORK_SIDE, WORK_SIDE))  # let the JPEG decoder skip detail we'd discard
        image.load()
        orientation = image.getexif().get(EXIF_ORIENTATION, 1)
        turned = orientation in (5, 6, 7, 8)
        if orientation != 1:
            ImageOps.exif_transpose(image, in_place=True)
        image = scaled_to_work_size(working_mode(image))
    except (OSError, ValueError, SyntaxError, EOFError, Image.DecompressionBombError):
        raise ImageRejected(N_("The image file is damaged or truncated and cannot be decoded.")) from None
    image.info["source_size"] = (height, width) if turned else (width, height)
    return image


def working_mode(image: Image.Image) -> Image.Image:
    """L, LA, RGB or RGBA: every other mode (palette, 16-bit, CMYK, 1-bit...) converted once."""
    if image.mode in ("L", "LA", "RGB", "RGBA") and "transparency" not in image.info:
        return image
    if image.mode.startswith("I") or image.mode == "F":
        return sixteen_bit_to_grey(image)
    has_alpha = "A" in image.getbands() or "a" in image.getbands() or "transparency" in image.info
    return image.convert("RGBA" if has_alpha else "RGB")


def sixteen_bit_to_grey(image: Image.Image) -> Image.Image:
    """Scale 16-bit (or 32-bit integer / float) grey to 8 bits; Pillow's convert would clip it."""
    values = np.asarray(image).astype(np.float32)
    if image.mode.startswith("I;16") or (image.mode == "I" and values.max() > 255):
        values /= 257.0
    elif image.mode == "F" and values.max() <= 1.0:
        values *= 255.0
    return Image.fromarray(np.clip(values, 0, 255).astype(np.uint8), mode="L")


def scaled_to_work_size(image: Image.Image) -> Image.Image:
    if max(image.size) > WORK_SIDE:
        image.thumbnail((WORK_SIDE, WORK_SIDE), Image.Resampling.BOX)
    return image


# --- ink extraction -------------------------------------------------------------------------

def contrast_map(image: Image.Image) -> np.ndarray:
    """How far each pixel is from the background (uint8): the ink before it is calibrated."""
    if image.mode in ("LA", "RGBA"):
        alpha = np.asarray(image.getchannel("A"))
        if transparent_background(alpha):
            return alpha  # a canvas: only the alpha channel is ever read
        pixels = np.asarray(image)
        pixels = pixels[..., 0] if image.mode == "LA" else pixels[..., :3]
        if alpha.min() < 255:
            pixels = flattened_on_white(pixels, alpha)
        return contrast_to_background(pixels)
    return contrast_to_background(np.asarray(image))


def border_of(pixels: np.ndarray) -> np.ndarray:
    """The outermost pixels: on a drawing or a photo of paper they are background."""
    return np.concatenate([pixels[0], pixels[-1], pixels[1:-1, 0], pixels[1:-1, -1]])


def transparent_background(alpha: np.ndarray) -> bool:
    """A canvas from `toBlob`: the background is see-through and the alpha is the ink."""
    return float(np.median(border_of(alpha))) < 128


def flattened_on_white(pixels: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """An opaque picture with some see-through pixels: show those as white paper."""
    opacity = (alpha.astype(np.float32) / 255).reshape(alpha.shape + (1,) * (pixels.ndim - 2))
    return (pixels * opacity + 255 * (1 - opacity)).astype(np.uint8)


def contrast_to_background(pixels: np.ndarray) -> np.ndarray:
    """How far each pixel is from the background (uint8): ink of any colour on any one colour,
    or, when the border is not one colour, dark ink on unevenly lit paper (a photo)."""
    border = border_of(pixels).reshape(-1, 1 if pixels.ndim == 2 else pixels.shape[-1])
    low, background, high = np.percentile(border, (5, 50, 95), axis=0)
    if (high - low).max() <= UNIFORM_BACKGROUND:
        if pixels.ndim == 2:
            return cv2.absdiff(pixels, float(background[0]))
        red, green, blue = (cv2.absdiff(np.ascontiguousarray(pixels[..., channel]), float(background[channel]))
                            for channel in range(3))
        return cv2.max(cv2.max(red, green), blue)
    grey = pixels if pixels.ndim == 2 else cv2.cvtColor(np.ascontiguousarray(pixels), cv2.COLOR_RGB2GRAY)
    return contrast_on_paper(grey)


def contrast_on_paper(grey: np.ndarray) -> np.ndarray:
    """A photo: smooth the sensor noise, estimate the lighting, divide it out."""
    dark_ink = float(np.median(border_of(grey))) >= 128
    smooth = cv2.GaussianBlur(grey, (0, 0), max(0.8, max(grey.shape) / 800)).astype(np.float32)
    lighting = lighting_of(smooth, dark_ink)
    if dark_ink:
        contrast = 1 - smooth / np.maximum(lighting, 1)
    else:
        contrast = (smooth - lighting) / np.maximum(255 - lighting, 1)
    return np.rint(np.clip(contrast, 0, 1) * 255).astype(np.uint8)


def lighting_of(grey: np.ndarray, dark_ink: bool) -> np.ndarray:
    """The paper without the ink: a closing (opening for light ink) wider than any stroke,
    computed on a small copy, smoothed and scaled back up."""
    scale = LIGHTING_SIDE / max(grey.shape)
    small = cv2.resize(grey, (max(1, round(grey.shape[1] * scale)), max(1, round(grey.shape[0] * scale))),
                       interpolation=cv2.INTER_AREA)
    size = max(3, max(small.shape) // 4) | 1
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size))
    paper = cv2.morphologyEx(small, cv2.MORPH_CLOSE if dark_ink else cv2.MORPH_OPEN, kernel)
    paper = cv2.GaussianBlur(paper, (0, 0), size / 2)
    return cv2.resize(paper, (grey.shape[1], grey.shape[0]), interpolation=cv2.INTER_LINEAR)


def ink_table(contrast: np.ndarray) -> np.ndarray:
    """The ink level (float32 in [0, 1]) of each of the 256 contrast levels: the paper's noise
    floor and below -> 0, the ink's typical contrast and above -> 1, linear between; all zero
    when there is no ink. `cv2.LUT(contrast, table)` is the ink map.

    Otsu's threshold separates ink from paper; the floor is the paper's median plus four
    robust standard deviations, so clean drawings keep their anti-aliased edges. All the
    statistics come from one histogram of every other row and column."""
    levels = np.arange(256)
    nothing = np.zeros(256, np.float32)
    peak = int(contrast.max())
    if peak < MIN_CONTRAST * 255:
        return nothing
    every_other = np.ascontiguousarray(contrast[::2, ::2])
    counts = cv2.calcHist([every_other], [0], None, [256], [0, 256]).ravel().astype(np.int64)
    threshold = max(otsu_threshold(counts), int(MIN_CONTRAST * 255 / 2))
    paper, ink = counts[:threshold + 1], counts[threshold + 1:]
    paper_median = weighted_median(levels[:threshold + 1], paper)
    spread = weighted_median(np.abs(levels[:threshold + 1] - paper_median), paper)
    floor = min(paper_median + 4 * 1.4826 * spread, 0.9 * threshold)
    level = weighted_median(levels[threshold + 1:], ink) if ink.any() else peak
    if level - floor < MIN_CONTRAST * 255:
        return nothing
    return np.clip((levels - floor) / (level - floor), 0, 1).astype(np.float32)


def otsu_threshold(counts: np.ndarray) -> int:
    """The level that best splits a histogram into two classes (Otsu's method)."""
    levels = np.arange(counts.size)
    below = np.cumsum(counts)
    mass_below = np.cumsum(counts * levels)
    above = below[-1] - below
    with np.errstate(divide="ignore", invalid="ignore"):
        between = below * above * (mass_below / below - (mass_below[-1] - mass_below) / above) ** 2
    return int(np.argmax(np.nan_to_num(between, nan=-1.0, posinf=-1.0)))


def weighted_median(values: np.ndarray, counts: np.ndarray) -> float:
    """The median of `values` each repeated `counts` times (a histogram's median)."""
    order = np.argsort(values, kind="stable")
    cumulative = np.cumsum(counts[order])
    return float(values[order][np.searchsorted(cumulative, cumulative[-1] / 2)])


def at_working_scale(contrast: np.ndarray, table: np.ndarray) -> np.ndarray:
    """The contrast map reduced by a whole factor when the drawing is far taller than a digit
    needs, so that it stays at least INK_HEIGHT pixels tall (the model sees 20).

    Every later step then costs a quarter per halving. Each block of factor x factor pixels
    keeps its strongest ink, so a one-pixel pen line stays one connected line (averaging
    would fade it below the stroke threshold); strokes grow by less than one reduced pixel,
    which the MNIST stroke width step absorbs. Block maxima commute with the ink table (it
    never decreases), so reducing the contrast and then looking up the ink is exactly
    reducing the ink. The height is that of the rows holding 98% of the stroke pixels, so
    neither a speck far from the digit nor paper texture counts."""
    stroke_level = int(np.searchsorted(table, segment.STROKE_THRESHOLD, side="right"))
    stroke = (contrast >= stroke_level).view(np.uint8)
    mass = np.cumsum(cv2.reduce(stroke, 1, cv2.REDUCE_SUM, dtype=cv2.CV_32S).ravel())
    if mass[-1] <= 0:
        return contrast
    top, bottom = np.searchsorted(mass, mass[-1] * np.array([(1 - INK_MASS_KEPT) / 2, (1 + INK_MASS_KEPT) / 2]))
    height, width = contrast.shape
    factor = min(int(bottom - top + 1) // INK_HEIGHT, width)  # a sliver one pixel wide stays as it is
    if factor < 2:
        return contrast
    block_maxima = cv2.dilate(contrast, np.ones((factor, factor), np.uint8), anchor=(0, 0))
    return np.ascontiguousarray(block_maxima[:height - height % factor:factor, :width - width % factor:factor])


def working_ink(contrast: np.ndarray, table: np.ndarray) -> np.ndarray:
    """The ink map at the working scale: what the digits are found and cut from."""
    return cv2.LUT(at_working_scale(contrast, table), table)


# --- one digit to 28x28 -------------------------------------------------------------------

def cropped(ink: np.ndarray, box) -> np.ndarray:
    x, y, width, height = box
    return ink[y:y + height, x:x + width]


def with_mnist_stroke_width(crop: np.ndarray) -> np.ndarray:
    """Thicken a pen line (or thin an extremely fat stroke) until its width relative to the
    digit's size is within MNIST's range; strokes already within it are left as drawn.

    Erosion and dilation are done with distance transforms, so any amount costs the same
    and the new edges stay anti-aliased."""
    if max(crop.shape) < SMALL_CROP:
        scale = SMALL_CROP / max(crop.shape)
        crop = cv2.resize(crop, None, fx=scale, fy=scale, interpolation=cv2.INTER_LINEAR)
    mask = crop > segment.STROKE_THRESHOLD
    width, size = segment.stroke_width(mask), max(crop.shape)
    target = float(np.clip(width / size, *MNIST_STROKE))
    if target == width / size:
        return crop
    # Eroding by r also shrinks the digit by 2r: solve (width - 2r) / (size - 2r) = target.
    shrink = (width - target * size) / (2 * (1 - target))
    margin = int(np.ceil(max(0.0, -shrink))) + 1
    padded = cv2.copyMakeBorder(crop, margin, margin, margin, margin, cv2.BORDER_CONSTANT, value=0)
    inked = (padded > segment.STROKE_THRESHOLD).view(np.uint8)
    if shrink > 0:
        inside = cv2.distanceTransform(inked, cv2.DIST_L2, cv2.DIST_MASK_5)
        return np.clip(inside - shrink, 0, 1)
    outside = cv2.distanceTransform(1 - inked, cv2.DIST_L2, cv2.DIST_MASK_5)
    return np.maximum(padded, np.clip(1 - shrink - outside, 0, 1))


def trimmed(ink: np.ndarray) -> np.ndarray:
    """Crop to the ink's bounding box again (after reshaping the strokes)."""
    mask = ink > 0.05
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    if not rows.size:
        return ink
    return ink[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]


def fit_in_box(crop: np.ndarray, size: int = DIGIT_BOX) -> np.ndarray:
    """Scale the longest side to `size` keeping the aspect ratio, with area averaging."""
    height, width = crop.shape
    scale = size / max(height, width)
    new_size = (max(1, round(width * scale)), max(1, round(height * scale)))
    interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    return cv2.resize(crop, new_size, interpolation=interpolation)


def paste_centred_by_mass(digit: np.ndarray) -> np.ndarray:
    """Paste into 28x28 with the centre of mass on pixel (14, 14), as MNIST did (whole pixels)."""
    height, width = digit.shape
    total = float(digit.sum())
    if total <= 0:
        centre_y, centre_x = (height - 1) / 2, (width - 1) / 2
    else:
        centre_y = float(digit.sum(axis=1) @ np.arange(height)) / total
        centre_x = float(digit.sum(axis=0) @ np.arange(width)) / total
    top = int(np.clip(round(CENTRE - centre_y), 0, IMAGE_SIDE - height))
    left = int(np.clip(round(CENTRE - centre_x), 0, IMAGE_SIDE - width))
    field = np.zeros((IMAGE_SIDE, IMAGE_SIDE), np.float32)
    field[top:top + height, left:left + width] = digit
    return field


def mnist_steps(crop: np.ndarray) -> list[tuple[str, np.ndarray]]:
    """The ink of one digit, cropped to its box, on its way to the 28x28 model input."""
    reshaped = trimmed(with_mnist_stroke_width(crop))
    digit = fit_in_box(reshaped)
    centred = np.clip(paste_centred_by_mass(digit), 0.0, 1.0).astype(np.float32)
    return [("stroke width like MNIST", reshaped), ("longest side 20 pixels", digit),
            ("centred by mass in 28x28", centred)]


def to_mnist(crop: np.ndarray) -> np.ndarray:
    """The ink of one digit, cropped to its box -> the 28x28 model input."""
    return mnist_steps(crop)[-1][1]


# --- whole images ---------------------------------------------------------------------------

def digit_inks(ink: np.ndarray, mode: str) -> list[tuple[tuple[int, int, int, int], np.ndarray]]:
    """(box, ink cropped to that box with other digits blanked) per digit, left to right."""
    strokes = segment.strokes_of(ink)
    kept = segment.without_specks(strokes)
    if not len(kept):
        return []
    groups = number_groups(strokes, kept) if mode == "number" else [kept]
    boxes = [strokes.box(labels) for labels in groups]
    found = [(labels, box) for labels, box in zip(groups, boxes) if not segment.is_too_small(box, ink.shape)]
    if len(found) > segment.MAX_DIGITS:
        raise ImageRejected(N_("Number mode reads at most %(most)s digits and this drawing has %(found)s: write a "
                               "shorter number or send it in parts."), most=segment.MAX_DIGITS, found=len(found))
    return [(box, own_ink(ink, strokes, labels, box)) for labels, box in found]


def own_ink(ink: np.ndarray, strokes: segment.Strokes, labels, box) -> np.ndarray:
    """The ink in `box` of the strokes `labels` only, with a pixel's margin so their soft edges stay."""
    own = cv2.dilate(strokes.mask(labels, box).view(np.uint8), np.ones((3, 3), np.uint8))
    return cropped(ink, box) * own


def number_groups(strokes: segment.Strokes, kept: np.ndarray) -> list[list[int]]:
    """The strokes grouped into digits, refused when there are far more strokes than a number has."""
    if len(kept) > segment.MAX_STROKES:
        raise ImageRejected(N_("Number mode reads at most %(most)s separate strokes and this drawing has "
                               "%(found)s: draw the digits with fewer, joined-up strokes."),
                            most=segment.MAX_STROKES, found=Count(len(kept)))
    return segment.digits_left_to_right(strokes, kept)


def in_source_pixels(box, image: Image.Image, ink_shape) -> tuple[int, int, int, int]:
    """A box on the (possibly scaled-down) ink map -> pixels of the uploaded image."""
    source_width, source_height = image.info.get("source_size", image.size)
    scale_x, scale_y = source_width / ink_shape[1], source_height / ink_shape[0]
    x, y, width, height = box
    return (round(x * scale_x), round(y * scale_y), max(1, round(width * scale_x)),
            max(1, round(height * scale_y)))


def digits_in(image: Image.Image, mode: str = "digit") -> list[Digit]:
    """The digits of a decoded image: one for `digit` mode, left to right for `number`;
    an empty list when nothing is drawn (blank, transparent, a dot)."""
    contrast = contrast_map(image)
    ink = working_ink(contrast, ink_table(contrast))
    return [Digit(box=in_source_pixels(box, image, ink.shape), pixels=to_mnist(crop))
            for box, crop in digit_inks(ink, mode)]


def stages(image: Image.Image) -> list[tuple[str, np.ndarray]]:
    """The digit path step by step, for showing on the page: (name, 2-D image) pairs."""
    grey = np.asarray(image.convert("L"))
    contrast = contrast_map(image)
    table = ink_table(contrast)
    steps = [("decoded", grey), ("ink", cv2.LUT(contrast, table))]
    found = digit_inks(working_ink(contrast, table), "digit")
    if not found:
        return steps
    _, crop = found[0]
    return steps + [("cropped, specks removed", crop)] + mnist_steps(crop)
