"""Smoke runs of the speed benchmarks with tiny counts, so they cannot rot."""

from benchmarks import bench_abuse, bench_load, bench_predict


def test_bench_predict_measures_three_paths_side_by_side():
    rows = bench_predict.run(repeats=10)
    assert [row["n"] for row in rows] == [10, 10, 10]
    naive, api, bare = rows
    assert naive["speedup"] == 1.0
    assert 0 < bare["p50_ms"] < api["p50_ms"]
    assert api["speedup"] > 1
    assert "| path | p50 ms |" in bench_predict.as_markdown(rows)


def test_bench_load_drives_the_real_server_started_like_make_run():
    result = bench_load.run(requests=40, concurrency=[1, 4], warmup=10)
    assert [level["clients"] for level in result["levels"]] == [1, 4]
    for level in result["levels"]:
        assert level["requests"] == 40 and level["errors"] == 0
        assert level["rps"] > 0 and level["p50_ms"] <= level["p99_ms"]
    assert result["startup_seconds"] > 0 and result["rss_before_mib"] > 0
    assert "| clients |" in bench_load.as_markdown(result)


def test_bench_abuse_sends_the_cases_to_the_real_server_started_like_make_run():
    cases = ["number mode, 12,065 tiny strokes", "`?offset=2**63` on /api/drawings", "DELETE a 23-digit drawing id"]
    rows = bench_abuse.run(repeats=1, only=cases)
    assert [row["case"] for row in rows] == cases
    for row in rows:
        assert row["status"] == str(row["expected"]) and row["json"]
        assert 0 < row["median_ms"] <= row["max_ms"] and 0 < row["max_bytes"] <= bench_abuse.TARGET_BYTES
    assert "| case | sent | status |" in bench_abuse.as_markdown(rows)


def test_styled_digits_are_canvas_pngs_the_app_reads_as_one_digit_each(client):
    from benchmarks.styled_digits import styled_digits
    from support import post_image

    drawings = [*styled_digits("flag-1", 3, seed=1), *styled_digits("bar-7", 3, seed=1),
                *styled_digits("font", 10, seed=1)]
    assert [d.label for d in drawings[6:]] == list(range(10))
    assert {d.label for d in drawings[:3]} == {1} and {d.label for d in drawings[3:6]} == {7}
    assert styled_digits("bar-7", 3, seed=1) == drawings[3:6]   # a seed makes the same drawings
    for drawing in drawings:
        answer = post_image(client, drawing.png).json
        assert len(answer["digits"]) == 1


def test_a_section_written_again_keeps_the_blank_line_before_the_next_one(tmp_path):
    from benchmarks.results_file import write_section

    results = tmp_path / "RESULTS.md"
    results.write_text("# Results\n\n## First\n\nold\n\n## Second\n\nkept\n")
    write_section("## First", "new", results)
    write_section("## First", "newer", results)
    assert results.read_text() == "# Results\n\n## First\n\nnewer\n\n## Second\n\nkept\n"


def test_the_cluster_figures_replace_their_own_section_of_the_results_and_keep_the_rest(tmp_path):
    from benchmarks import bench_cluster

    results = tmp_path / "RESULTS.md"
    results.write_text("# Speed results\n\n## Stalled connections\n\np99 18 ms\n")
    bench_cluster.write_section(results, "first run\n", "AMD EPYC, 2 cores")
    bench_cluster.write_section(results, "second run\n", "AMD EPYC, 2 cores")
    text = results.read_text()
    assert text.startswith("# Speed results\n\n## Stalled connections\n\np99 18 ms\n")
    assert text.count(bench_cluster.SECTION) == 1 and "second run" in text and "first run" not in text
    assert bench_cluster.section_of(text).startswith(bench_cluster.SECTION) and "p99 18" not in \
        bench_cluster.section_of(text)
