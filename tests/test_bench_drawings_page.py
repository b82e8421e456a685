"""Smoke run of the /drawings page benchmark with tiny counts, so it cannot rot."""

from benchmarks import bench_drawings_page


def test_bench_drawings_page_fills_stores_and_times_first_views():
    rows = bench_drawings_page.run(sizes=(10, 300), repeats=2)
    assert [row["drawings"] for row in rows] == [10, 300]
    for row in rows:
        assert row["runs"] == 2 and 0 < row["min_ms"] <= row["median_ms"] <= row["max_ms"]
    assert "| 300 |" in bench_drawings_page.as_markdown(rows)
