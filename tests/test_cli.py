"""`flask --app webapp predict IMAGE ...` on real files: digits, confidence, top 3, and clear failures."""

from __future__ import annotations

import re

import numpy as np
import pytest
from PIL import Image

SEVEN, TWO = 0, 1   # MNIST test indices of a 7 and a 2


def paper(digit: np.ndarray, size: int = 140) -> Image.Image:
    """The MNIST digit as dark ink on white paper, enlarged."""
    return Image.fromarray(255 - digit).resize((size, size), Image.Resampling.BILINEAR)


@pytest.fixture()
def files(tmp_path, mnist):
    seven = tmp_path / "seven.png"
    paper(mnist.x_test[SEVEN]).save(seven)
    two = tmp_path / "two.jpg"
    paper(mnist.x_test[TWO]).convert("RGB").save(two, quality=90)
    number = tmp_path / "seventy-two.png"
    side_by_side = np.concatenate([255 - mnist.x_test[SEVEN], 255 - mnist.x_test[TWO]], axis=1)
    Image.fromarray(side_by_side).resize((280, 140), Image.Resampling.BILINEAR).save(number)
    text = tmp_path / "notes.txt"
    text.write_text("seven, two\n")
    return {"seven": seven, "two": two, "number": number, "text": text, "missing": tmp_path / "gone.png"}


def predict(app, *args):
    return app.test_cli_runner().invoke(args=["predict", *map(str, args)])


def test_prints_digit_confidence_and_top_three_per_file(app, files):
    result = predict(app, files["seven"], files["two"])
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert re.match(rf"{re.escape(str(files['seven']))}: 7  confidence \d+\.\d%  top 3: 7 \d+\.\d%, \d \S+, \d \S+$",
                    lines[0])
    assert lines[1].startswith(f"{files['two']}: 2  confidence")


def test_named_model_is_used(app, files):
    name = app.extensions["models"].names[-1]
    result = predict(app, files["seven"], "--model", name)
    assert result.exit_code == 0 and ": 7  confidence" in result.output


def test_unknown_model_lists_the_known_ones(app, files):
    result = predict(app, files["seven"], "--model", "resnet")
    assert result.exit_code == 2
    assert "resnet" in result.output and app.extensions["models"].names[0] in result.output


def test_number_mode_reads_left_to_right(app, files):
    result = predict(app, "--number", files["number"])
    assert result.exit_code == 0, result.output
    assert f"{files['number']}: number 72  [7 at x=" in result.output
    assert result.output.count("top 3:") == 2


def test_missing_file_and_text_file_are_reported_and_the_rest_still_read(app, files):
    result = predict(app, files["missing"], files["text"], files["seven"])
    assert result.exit_code == 1
    assert f"{files['missing']}: no such file." in result.output
    assert f"{files['text']}: This is not an image we can read. Send a PNG, JPEG, WebP, GIF or BMP." in result.output
    assert f"{files['seven']}: 7  confidence" in result.output


def test_blank_image_says_nothing_drawn(app, tmp_path):
    blank = tmp_path / "blank.png"
    Image.new("L", (100, 100), 255).save(blank)
    result = predict(app, blank)
    assert result.exit_code == 0
    assert result.output.strip() == f"{blank}: nothing drawn"


def test_export_to_a_missing_folder_is_one_line_and_exit_status_1(app, tmp_path):
    out = tmp_path / "no-such-folder" / "drawings.npz"
    result = app.test_cli_runner().invoke(args=["export-drawings", str(out)])
    assert result.exit_code == 1
    assert result.output == (f"Error: cannot write {out}: the folder {out.parent} does not exist "
                             "(create it first, or choose another).\n")
    assert "Traceback" not in result.output and not out.parent.exists()


def test_export_that_cannot_be_written_says_why(app, tmp_path):
    folder = tmp_path / "drawings.npz"
    folder.mkdir()   # click refuses a folder as OUT before the app runs: exit status 2 with usage
    assert app.test_cli_runner().invoke(args=["export-drawings", str(folder)]).exit_code == 2
    notes = tmp_path / "notes.txt"
    notes.write_text("not a folder\n")
    result = app.test_cli_runner().invoke(args=["export-drawings", str(notes / "drawings.npz")])
    assert result.exit_code == 1
    assert result.output == f"Error: cannot write {notes / 'drawings.npz'}: {notes} is a file, not a folder.\n"
