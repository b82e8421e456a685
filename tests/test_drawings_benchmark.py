"""A smoke run of the drawings benchmark with a few drawings per style, so it cannot rot."""

from benchmarks import make_drawings, score_drawings
from training.mnist import load_mnist


def test_drawings_are_scored_on_both_paths_side_by_side(app):
    results = score_drawings.score(app, count=4)
    assert [result["style"] for result in results] == list(make_drawings.STYLES)
    for result in results:
        assert result["n"] == 4
        assert result["project"] >= 0.75
        assert 0 <= result["naive"] <= 1 and 0 <= result["mnist"] <= 1
    table = score_drawings.markdown(results, app.extensions["models"].default, count=4)
    assert "| style | n | project path | naive path |" in table


def test_drawings_are_the_same_on_every_run():
    mnist = load_mnist()
    first, again = (list(make_drawings.drawings("photo", 2, mnist.x_test, mnist.y_test)) for _ in range(2))
    assert [d.data for d in first] == [d.data for d in again]
    assert first[0].filename.startswith("photo-") and first[0].filename.endswith(".jpg")
