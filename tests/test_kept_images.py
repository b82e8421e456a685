"""The kept copy of a drawing: small whatever is sent, PNG only when there is transparency, pixels only."""

import io

import numpy as np
import pytest
from PIL import Image

from webapp.vision import kept_images


def kept(image: Image.Image, side: int = 256) -> Image.Image:
    data = kept_images.encoded(kept_images.downscaled(image, side))
    assert len(data) <= kept_images.MAX_KEPT_BYTES
    return Image.open(io.BytesIO(data))


@pytest.mark.parametrize("mode, channels", [("RGBA", 4), ("LA", 2)])
def test_transparent_noise_is_kept_as_png_shrunk_until_it_fits(mode, channels):
    noise = np.random.default_rng(1).integers(0, 256, (640, 640, channels), dtype=np.uint8)
    image = kept(Image.fromarray(noise, mode))
    assert image.format == "PNG" and image.getchannel("A").getextrema()[0] < 255 and max(image.size) < 256


@pytest.mark.parametrize("mode, stored_mode", [("RGB", "RGB"), ("L", "L"), ("RGBA", "RGB")])
def test_opaque_pictures_are_kept_as_jpeg(mode, stored_mode):
    image = kept(Image.new(mode, (640, 480), "white"))
    assert (image.format, image.mode, image.size) == ("JPEG", stored_mode, (256, 192))


def test_a_small_drawing_is_not_enlarged_and_metadata_never_rides_along():
    image = Image.new("RGB", (100, 60), "white")
    image.info["exif"] = b"Exif\x00\x00secret"
    image.info["icc_profile"] = b"profile"
    copy = kept_images.downscaled(image, 256)
    assert copy.size == (100, 60) and copy.info == {}


def test_a_digits_box_in_upload_pixels_is_cropped_from_the_copy():
    copy = Image.new("L", (256, 128))
    crop = kept_images.crop_of(copy, (1000, 0, 500, 1024), source_size=(2048, 1024))
    assert crop.size == (63, 128)
