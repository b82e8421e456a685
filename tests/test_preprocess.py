"""Every kind of drawing or photo reaches the model looking like MNIST, and "nothing drawn" is said so.

Each case renders a real MNIST test digit the way one kind of device or file would
hold it (small and off-centre, as people draw) and posts the bytes to /api/predict.
The digits are the first test digits of each class that the shipped model reads
right at 28x28: these tests are about preprocessing, not about the model.
"""

from __future__ import annotations

import io

import cv2
import numpy as np
import pytest
from PIL import Image

from webapp.vision import preprocess, segment

CANVAS = (360, 270)              # width, height: wider than tall, like a laptop canvas
DIGIT_HEIGHT = 150
DIGIT_AT = (40, 70)              # left, top: away from the centre
EXIF_ORIENTATION = 0x0112


@pytest.fixture(scope="module")
def samples(shipped_models, mnist):
    """Per class, the first MNIST test digit that the default model reads right as it is."""
    images, labels = mnist.x_test[:400], mnist.y_test[:400]
    read = shipped_models.default.predict(images.astype(np.float32) / 255).argmax(axis=1)
    return {digit: images[np.flatnonzero((labels == digit) & (read == digit))[0]] for digit in range(10)}


def ink_on_canvas(digit: np.ndarray, canvas=CANVAS, height=DIGIT_HEIGHT, at=DIGIT_AT) -> np.ndarray:
    """Ink coverage in [0, 1]: the MNIST digit enlarged (smoothly) and placed on a larger canvas."""
    rows, cols = np.flatnonzero(digit.any(axis=1)), np.flatnonzero(digit.any(axis=0))
    crop = digit[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1].astype(np.float32) / 255
    scale = height / crop.shape[0]
    big = np.clip(cv2.resize(crop, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC), 0, 1)
    ink = np.zeros((canvas[1], canvas[0]), np.float32)
    ink[at[1]:at[1] + big.shape[0], at[0]:at[0] + big.shape[1]] = big
    return ink


def painted(ink: np.ndarray, ink_colour, background) -> np.ndarray:
    coverage = ink[..., None]
    return np.rint(np.asarray(background, np.float32) * (1 - coverage)
                   + np.asarray(ink_colour, np.float32) * coverage).astype(np.uint8)


def encoded(image: Image.Image, format: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=format, **options)
    return buffer.getvalue()


def transparent_canvas(digit, ink_colour=(0, 0, 0)) -> bytes:
    """What `canvas.toBlob` sends: coloured pixels whose alpha is the ink."""
    ink = ink_on_canvas(digit)
    rgba = np.dstack([np.full(ink.shape + (3,), ink_colour, np.uint8), np.rint(ink * 255).astype(np.uint8)])
    return encoded(Image.fromarray(rgba, "RGBA"), "PNG")


def on_background(digit, ink_colour, background, mode="RGB", format="PNG", **options) -> bytes:
    image = Image.fromarray(painted(ink_on_canvas(digit), ink_colour, background), "RGB").convert(mode)
    return encoded(image, format, **options)


def la_png(digit) -> bytes:
    alpha = np.rint(ink_on_canvas(digit) * 255).astype(np.uint8)
    return encoded(Image.fromarray(np.dstack([np.zeros_like(alpha), alpha]), "LA"), "PNG")


def palette_with_transparency(digit) -> bytes:
    """A palette PNG: index 0 (white) is see-through, indices 1-255 are darker and darker ink."""
    ink = np.rint(ink_on_canvas(digit) * 255).astype(np.uint8)
    image = Image.fromarray(ink, "L").convert("P")
    image.putpalette([value for level in range(256) for value in (255 - level,) * 3])
    return encoded(image, "PNG", transparency=0)


def sixteen_bit_png(digit) -> bytes:
    paper = np.rint((1 - ink_on_canvas(digit)) * 65535).astype(np.uint16)
    return encoded(Image.fromarray(paper), "PNG")


def animated_gif(digit, other) -> bytes:
    first, second = (Image.fromarray(painted(ink_on_canvas(d), (0, 0, 0), (255, 255, 255))).convert("P")
                     for d in (digit, other))
    return encoded(first, "GIF", save_all=True, append_images=[second], duration=200, loop=0)


def exif_rotated_jpeg(digit) -> bytes:
    """A phone photo stored sideways with orientation 6 ("turn 90 degrees clockwise to view")."""
    upright = Image.fromarray(painted(ink_on_canvas(digit), (20, 20, 20), (250, 250, 250)))
    stored = upright.transpose(Image.Transpose.ROTATE_90)
    exif = Image.Exif()
    exif[EXIF_ORIENTATION] = 6
    return encoded(stored, "JPEG", quality=90, exif=exif.tobytes())


def photo_of_paper(digit, size=(1200, 900)) -> bytes:
    return paper_photo(ink_on_canvas(digit, canvas=size, height=500, at=(300, 200)))


def paper_photo(ink: np.ndarray) -> bytes:
    """Pen on paper under a lamp: light falling off to one side, blur, sensor noise, JPEG."""
    rng = np.random.default_rng(7)
    paper = painted(ink, (35, 35, 60), (225, 218, 200)).astype(np.float32)
    light = np.linspace(1.0, 0.55, ink.shape[1], dtype=np.float32)[None, :, None]
    photo = cv2.GaussianBlur(paper * light, (0, 0), 1.5) + rng.normal(0, 6, paper.shape)
    return encoded(Image.fromarray(np.clip(photo, 0, 255).astype(np.uint8)), "JPEG", quality=70)


CASES = {
    "transparent RGBA canvas, black ink": (lambda d, o: transparent_canvas(d)),
    "transparent RGBA canvas, white ink": (lambda d, o: transparent_canvas(d, (255, 255, 255))),
    "black on white RGB": (lambda d, o: on_background(d, (0, 0, 0), (255, 255, 255))),
    "white on black L": (lambda d, o: on_background(d, (255, 255, 255), (0, 0, 0), mode="L")),
    "yellow ink on white": (lambda d, o: on_background(d, (250, 210, 0), (255, 255, 255))),
    "cyan ink on black": (lambda d, o: on_background(d, (0, 200, 255), (0, 0, 0))),
    "blue ink on grey": (lambda d, o: on_background(d, (20, 40, 200), (128, 128, 128))),
    "LA": (lambda d, o: la_png(d)),
    "P with transparency": (lambda d, o: palette_with_transparency(d)),
    "16-bit grey PNG": (lambda d, o: sixteen_bit_png(d)),
    "CMYK JPEG": (lambda d, o: on_background(d, (0, 0, 0), (255, 255, 255), mode="CMYK", format="JPEG",
                                             quality=90)),
    "lossy WebP": (lambda d, o: on_background(d, (0, 0, 0), (255, 255, 255), format="WEBP", quality=80)),
    "GIF, first frame of two": (lambda d, o: animated_gif(d, o)),
    "BMP": (lambda d, o: on_background(d, (0, 0, 0), (255, 255, 255), format="BMP")),
    "EXIF-rotated JPEG": (lambda d, o: exif_rotated_jpeg(d)),
    "photo of paper": (lambda d, o: photo_of_paper(d)),
}


def post(client, data: bytes, **fields):
    return client.post("/api/predict", data={"image": (io.BytesIO(data), "drawing"), **fields},
                       content_type="multipart/form-data")


@pytest.mark.parametrize("number", range(10))
@pytest.mark.parametrize("render", CASES.values(), ids=CASES.keys())
def test_every_kind_of_image_reads_as_its_digit(client, samples, render, number):
    response = post(client, render(samples[number], samples[(number + 1) % 10]))
    assert response.status_code == 200
    assert response.get_json()["digit"] == number


def test_box_is_in_the_pixels_of_the_uploaded_image(client, samples):
    """A large photo is scaled down to read it, but the box says where the digit is in the original."""
    answer = post(client, photo_of_paper(samples[4], size=(3000, 2250))).get_json()
    x, y, width, height = answer["digits"][0]["box"]
    ink = ink_on_canvas(samples[4], canvas=(3000, 2250), height=500, at=(300, 200)) > 0.35
    rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    assert abs(x - cols[0]) <= 12 and abs(y - rows[0]) <= 12
    assert abs(width - (cols[-1] - cols[0] + 1)) <= 24 and abs(height - (rows[-1] - rows[0] + 1)) <= 24


def single_dot() -> bytes:
    alpha = np.zeros((280, 280), np.uint8)
    cv2.circle(alpha, (140, 140), 8, 255, -1, cv2.LINE_AA)
    return encoded(Image.fromarray(np.dstack([np.zeros((280, 280, 3), np.uint8), alpha]), "RGBA"), "PNG")


NOTHING_DRAWN = {
    "blank white canvas": lambda: encoded(Image.new("RGB", (280, 280), "white"), "PNG"),
    "blank black canvas": lambda: encoded(Image.new("L", (280, 280), 0), "PNG"),
    "fully transparent canvas": lambda: encoded(Image.new("RGBA", (280, 280), (0, 0, 0, 0)), "PNG"),
    "all-white opaque canvas": lambda: encoded(Image.new("RGBA", (280, 280), (255, 255, 255, 255)), "PNG"),
    "a single dot": single_dot,
    "photo of empty paper": lambda: paper_photo(np.zeros((900, 1200), np.float32)),
}


@pytest.mark.parametrize("mode", ["digit", "number"])
@pytest.mark.parametrize("build", NOTHING_DRAWN.values(), ids=NOTHING_DRAWN.keys())
def test_nothing_drawn_is_not_a_guess(client, build, mode):
    response = post(client, build(), mode=mode)
    assert response.status_code == 200
    answer = response.get_json()
    assert (answer["digit"], answer["digits"], answer["number"]) == (None, [], "")


def test_specks_far_smaller_than_a_stroke_are_ignored(client, samples):
    ink = ink_on_canvas(samples[3])
    for x, y in [(5, 5), (330, 20), (300, 240), (20, 250)]:
        cv2.circle(ink, (x, y), 2, 1.0, -1)
    data = encoded(Image.fromarray(painted(ink, (0, 0, 0), (255, 255, 255))), "PNG")
    answer = post(client, data).get_json()
    assert answer["digit"] == 3
    x, y, _, _ = answer["digits"][0]["box"]
    assert (x, y) == pytest.approx(DIGIT_AT, abs=3)


@pytest.mark.parametrize("pen_width", [1, 2, 40])
def test_thin_pen_and_fat_finger_strokes_reach_mnist_width(pen_width):
    """A '1' drawn as a line of any width comes out with an MNIST-like stroke: 1.5-4 pixels."""
    alpha = np.zeros((400, 400), np.uint8)
    cv2.line(alpha, (200, 40), (190, 360), 255, pen_width, cv2.LINE_AA)
    image = Image.fromarray(np.dstack([np.zeros((400, 400, 3), np.uint8), alpha]), "RGBA")
    pixels = preprocess.digits_in(image)[0].pixels
    assert 1.5 <= (pixels.sum(axis=1)[pixels.sum(axis=1) > 0.5]).mean() <= 4


def test_stages_show_each_step_of_the_digit_path(samples):
    image = preprocess.decode(transparent_canvas(samples[2]), 10_000_000)
    stages = preprocess.stages(image)
    names = [name for name, _ in stages]
    assert names[:2] == ["decoded", "ink"] and len(names) == 6
    assert all(picture.ndim == 2 for _, picture in stages)
    assert stages[0][1].shape == (CANVAS[1], CANVAS[0])
    assert stages[-1][1].shape == (28, 28)
    np.testing.assert_array_equal(stages[-1][1], preprocess.digits_in(image)[0].pixels)


def test_stages_of_an_empty_canvas_stop_after_the_ink():
    image = preprocess.decode(encoded(Image.new("RGBA", (100, 100)), "PNG"), 10_000_000)
    assert [name for name, _ in preprocess.stages(image)] == ["decoded", "ink"]


LINEAR_TABLE = (np.arange(256) / 255).astype(np.float32)   # contrast c -> ink c / 255


def test_a_drawing_much_taller_than_needed_is_reduced_by_a_whole_factor():
    contrast = np.zeros((500, 400), np.uint8)
    cv2.line(contrast, (200, 40), (190, 460), 255, 20)
    reduced = preprocess.at_working_scale(contrast, LINEAR_TABLE)
    assert reduced.shape == (500 // 4, 400 // 4)      # 420 rows of ink: factor 4, still over 96 rows tall
    assert reduced.max() == 255


def test_reducing_the_contrast_then_the_table_equals_reducing_the_ink():
    contrast = np.zeros((400, 300), np.uint8)
    cv2.ellipse(contrast, (150, 200), (90, 170), 0, 0, 360, 200, 9, cv2.LINE_AA)
    table = np.clip((np.arange(256) - 30) / 150, 0, 1).astype(np.float32)
    reduced = cv2.LUT(preprocess.at_working_scale(contrast, table), table)
    ink = cv2.LUT(contrast, table)
    expected = ink[:399, :].reshape(133, 3, 100, 3).max(axis=(1, 3))   # 340 rows of ink: factor 3
    np.testing.assert_array_equal(reduced, expected)


def test_a_speck_far_from_the_digit_does_not_change_the_working_scale():
    contrast = np.zeros((600, 600), np.uint8)
    cv2.line(contrast, (300, 400), (300, 590), 255, 12)    # a 190-pixel '1' near the bottom
    alone = preprocess.at_working_scale(contrast, LINEAR_TABLE).shape
    cv2.circle(contrast, (50, 10), 2, 255, -1)             # dust at the top
    assert preprocess.at_working_scale(contrast, LINEAR_TABLE).shape == alone


@pytest.mark.parametrize("pen_width", [1, 2])
def test_a_thin_pen_line_stays_one_stroke_when_reduced(pen_width):
    alpha = np.zeros((600, 600), np.uint8)
    cv2.line(alpha, (300, 30), (280, 570), 255, pen_width, cv2.LINE_AA)
    image = Image.fromarray(np.dstack([np.zeros((600, 600, 3), np.uint8), alpha]), "RGBA")
    contrast = preprocess.contrast_map(image)
    reduced = preprocess.working_ink(contrast, preprocess.ink_table(contrast))
    assert reduced.shape[0] < 600 // 2
    count, _ = cv2.connectedComponents((reduced > segment.STROKE_THRESHOLD).view(np.uint8))
    assert count == 2                                 # background and one unbroken line


def test_small_drawings_are_not_reduced():
    contrast = np.zeros((280, 280), np.uint8)
    cv2.line(contrast, (140, 60), (140, 230), 255, 15)     # 170 rows of ink: less than twice 96
    assert preprocess.at_working_scale(contrast, LINEAR_TABLE) is contrast


def test_faint_paper_texture_does_not_count_as_ink_height():
    contrast = np.random.default_rng(3).integers(0, 50, (640, 480)).astype(np.uint8)  # paper grain
    cv2.line(contrast, (240, 300), (240, 410), 255, 10)                              # a 120-pixel '1'
    assert preprocess.at_working_scale(contrast, LINEAR_TABLE) is contrast
