"""The lesson as a teacher runs it from the README's classroom section: `make classroom` in a fresh copy of the
project, eight students' phones sending twenty drawings, then Fine-tune and roll back from /teacher in real
Chromium. Every Python process of the server (the workers and the fine-tuning run they start) runs under a
guard that records and refuses any look-up of or connection to a host beyond this computer."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import urllib3
from playwright.sync_api import expect

from deploy.local_servers import free_port, wait_for_port
from support import TEACHER_TOKEN, canvas_png
from webapp import PROJECT_ROOT

GUARD = Path(__file__).resolve().parent.parent / "support" / "network_guard"
RUN_SECONDS = 240          # a bound for "the run ends", not a speed target
STUDENTS = 8
DRAWINGS = 20
PACKAGE_WORDS = ("No module", "requirements", "training tools", "not installed", "pip install", "MnistUnavailable")


def fresh_copy(target: Path) -> Path:
    """The project's files as a clone would have them (tracked and new ones, nothing ignored), times kept so
    that make sees the test's venv as up to date."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                            cwd=PROJECT_ROOT, capture_output=True, check=True).stdout.split(b"\0")
    for name in filter(None, (entry.decode() for entry in listed)):
        source = PROJECT_ROOT / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    return target


@pytest.fixture()
def classroom(tmp_path):
    """`make classroom` (on loopback only) in a fresh copy, with the test's venv: (base URL, guard log)."""
    venv = Path(sys.prefix)
    if not (venv / ".training").is_file():
        if os.environ.get("CI"):
            pytest.fail(f"{venv} was not made by `make test` (no .training stamp)")
        pytest.skip(f"{venv} was not made by make")
    project = fresh_copy(tmp_path / "digit-draw")
    port = free_port()
    guard_log = tmp_path / "network-attempts.log"
    environment = {**os.environ, "DIGITDRAW_TEACHER_TOKEN": TEACHER_TOKEN,
                   "DIGITDRAW_DATABASE": str(tmp_path / "drawings.sqlite"),
                   "PYTHONPATH": str(GUARD), "DIGITDRAW_NETWORK_GUARD_LOG": str(guard_log)}
    environment.pop("DIGITDRAW_MNIST", None)
    output = tmp_path / "make-classroom.log"
    with open(output, "wb") as log:
        server = subprocess.Popen(["make", "--no-print-directory", "classroom", f"VENV={venv}", f"PORT={port}",
                                   "CLASSROOM_HOST=127.0.0.1"], cwd=project, env=environment, stdout=log,
                                  stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_for_port(port, server, seconds=120)
        yield f"http://127.0.0.1:{port}", guard_log, output
    finally:
        os.killpg(server.pid, signal.SIGTERM)   # make and the gunicorn it started: the group this test made
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


def send_drawings_from_phones(url: str, mnist) -> None:
    """Twenty MNIST test digits, each from one of eight addresses (127.0.0.2-9), labelled as MNIST says."""
    phones = [urllib3.PoolManager(source_address=(f"127.0.0.{n + 2}", 0)) for n in range(STUDENTS)]
    for n in range(DRAWINGS):
        index = 1000 + n
        answer = phones[n % STUDENTS].request(
            "POST", f"{url}/api/feedback", timeout=30,
            fields={"image": ("drawing.png", canvas_png(mnist.x_test[index]), "image/png"),
                    "label": str(int(mnist.y_test[index]))})
        assert answer.status == 201, answer.data
        time.sleep(0.1)
    for phone in phones:
        phone.clear()


def test_a_class_of_eight_collects_fine_tunes_and_rolls_back_from_the_classroom_start(
        classroom, mnist, browser, browser_problems, tmp_path, screenshot_dir):
    url, guard_log, output = classroom
    started = output.read_text()
    assert "MNIST ready for fine-tuning" in started and "Traceback" not in started
    send_drawings_from_phones(url, mnist)

    context = browser.new_context(base_url=url, reduced_motion="reduce", viewport={"width": 1280, "height": 900})
    teacher = context.new_page()
    browser_problems.watch(teacher)
    teacher.goto("/teacher")
    teacher.locator("#token").fill(TEACHER_TOKEN)
    with teacher.expect_navigation():
        teacher.locator("button[type=submit]").click()
    expect(teacher.locator("#finetune-tools")).to_have_count(0)   # nothing to install
    expect(teacher.locator("#finetune-drawings")).to_have_text(
        "20 drawings from 8 students: 4 are kept aside to check the new version, and it learns from the other 16."
        " No drawings of 3 yet: it cannot learn that digit from this class.")
    expect(teacher.locator("#label-counts")).to_be_visible()
    teacher.select_option("#versions-model", "mlp")
    expect(teacher.locator("#finetune-button")).to_be_enabled()
    teacher.screenshot(path=str(screenshot_dir / "lesson-teacher-ready-1280.png"), full_page=True)

    teacher.locator("#finetune-button").click()
    state = teacher.locator("#finetune-state")
    expect(state).to_contain_text("Fine-tuning", timeout=10_000)
    expect(state).not_to_contain_text("Fine-tuning…", timeout=RUN_SECONDS * 1000)
    said = state.text_content()
    assert not any(word in said for word in PACKAGE_WORDS), said
    assert "Published" in said or ("Not published" in said and ("drawings" in said or "MNIST test" in said)), said
    teacher.screenshot(path=str(screenshot_dir / "lesson-teacher-after-run-1280.png"), full_page=True)

    if "Published" in said:
        rows = teacher.locator("#versions-body tr")
        expect(rows).to_have_count(2)
        teacher.get_by_role("button", name="Serve version 1").click()
        expect(teacher.locator("#versions-status")).to_contain_text("version 1 within seconds")
        expect(rows.nth(1)).to_contain_text("Served now")
    teacher.set_viewport_size({"width": 390, "height": 844})
    teacher.screenshot(path=str(screenshot_dir / "lesson-teacher-390.png"), full_page=True)
    context.close()
    assert browser_problems.unexpected() == []
    assert not guard_log.exists(), guard_log.read_text()


def test_the_guard_catches_a_process_that_reaches_for_the_internet(tmp_path):
    """The guard above would pass a test by seeing nothing: here it must see a look-up and a connection."""
    log = tmp_path / "attempts.log"
    probe = ("import socket\n"
             "for attempt in (lambda: socket.getaddrinfo('example.com', 443),"
             " lambda: socket.socket().connect(('192.0.2.1', 9))):\n"
             "    try: attempt()\n"
             "    except OSError: pass\n"
             "socket.getaddrinfo('localhost', 80)\n")
    subprocess.run([sys.executable, "-c", probe], check=True, timeout=30,
                   env={**os.environ, "PYTHONPATH": str(GUARD), "DIGITDRAW_NETWORK_GUARD_LOG": str(log)})
    lines = log.read_text().splitlines()
    assert len(lines) == 2 and "example.com" in lines[0] and "192.0.2.1" in lines[1]
