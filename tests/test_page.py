"""The monitor page in a real browser: Debian chromium driven by Playwright, a synthesised Japanese consultation as
the fake microphone, and `kogata serve` (the 0.5B model) in a subprocess on a free loopback port.

The test holds a visit through the page (paragraphs appear while the audio plays), ends it (the chart appears),
clicks a line (its evidence is highlighted), corrects a speaker, edits a line and saves it, then restarts the
server on the same database and finds the edit and the correction again. A screenshot goes to bench/out/page.png.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = Path(os.environ.get("KOGATA_CHROMIUM", "/usr/bin/chromium"))
SCRIPT = ROOT / "data" / "speech" / "short_visit.txt"
EDITED = "医師が書き直した評価の行。"

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason=f"no chromium at {CHROMIUM} (apt-get install chromium)")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Serve:
    """`kogata serve --model small` in a subprocess, ready once /health says the model is loaded."""

    def __init__(self, db: Path, port: int):
        self.url = f"http://127.0.0.1:{port}"
        kogata = shutil.which("kogata", path=str(Path(sys.executable).parent))
        command = [kogata] if kogata else [sys.executable, "-c", "from kogata.cli import cli; cli()"]
        command += [
            "serve",
            "--model",
            "small",
            "--port",
            str(port),
            "--db",
            str(db),
            "--threads",
            "2",
            "--no-registered-adapters",
            "--log-level",
            "warning",
        ]
        self.process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.time() + 600
        while True:
            assert self.process.poll() is None, self.process.stderr.read().decode(errors="replace")
            try:
                if httpx.get(self.url + "/health", timeout=2).json()["status"] == "ok":
                    return
            except httpx.HTTPError:
                pass
            assert time.time() < deadline, "kogata serve did not get ready in 600 s"
            time.sleep(0.2)

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@pytest.fixture(scope="module")
def microphone(tmp_path_factory) -> Path:
    """The first three turns of a short consultation, synthesised, as the fake microphone's file; a minute of
    silence after them, since chromium plays the file in a loop."""
    import numpy as np

    from kogata.speech.audio import SAMPLE_RATE, write_wav
    from kogata.speech.synth import synthesize

    visit = synthesize(SCRIPT, seed=3, limit=3)
    samples = np.concatenate([visit.samples, np.zeros(60 * SAMPLE_RATE, np.float32)])
    return write_wav(tmp_path_factory.mktemp("page") / "visit.wav", samples)


@pytest.fixture(scope="module")
def browser(microphone):
    playwright = pytest.importorskip("playwright.sync_api")
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM),
            args=[
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--autoplay-policy=no-user-gesture-required",
                "--use-fake-ui-for-media-stream",
                "--use-fake-device-for-media-stream",
                f"--use-file-for-fake-audio-capture={microphone}",
            ],
        )
        yield browser
        browser.close()


def test_a_visit_through_the_page_survives_a_restart(browser, tmp_path):
    from playwright.sync_api import expect

    db, port = tmp_path / "visits.sqlite3", free_port()
    server = Serve(db, port)
    try:
        page = browser.new_page(viewport={"width": 1366, "height": 768}, accept_downloads=True)
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(server.url + "/")
        expect(page.locator("#status")).to_have_text("準備完了", timeout=300_000)
        page.click("#new-visit")
        expect(page.locator("#mic")).to_be_enabled(timeout=10_000)
        visit_id = page.evaluate("location.hash.slice(1)")

        page.click("#mic")  # the fake microphone plays the synthesised visit
        expect(page.locator("#transcript .utterance")).to_have_count(3, timeout=300_000)
        page.click("#mic")  # stop before the file loops
        first = page.locator("#transcript .utterance").first
        expect(first.locator(".speaker")).to_have_text("医師")
        assert "今日" in first.locator("p").inner_text()

        page.click("#end")
        lines = page.locator("#chart .line")
        expect(lines.first).to_be_visible(timeout=900_000)
        expect(page.locator("#chart-meta")).to_contain_text("第1版")

        cited = page.locator("#chart .line", has=page.locator(".ev", has_text="発言")).first
        cited.click()
        expect(page.locator("#transcript .utterance.evidence").first).to_be_visible()

        page.locator("#u2 .speaker").click()  # the patient's line was labelled right; flip it and back
        expect(page.locator("#u2 .speaker")).to_have_text("医師")
        page.locator("#u2 .speaker").click()
        expect(page.locator("#u2 .speaker")).to_have_text("患者")

        page.fill("#author", "山田医師")
        page.locator('#chart .section[data-section="A"] h3 button').click()  # add a line to A
        page.locator('#chart .section[data-section="A"] .line .text').last.fill(EDITED)
        page.screenshot(path=str(ROOT / "bench" / "out" / "page.png"))
        page.click("#save")
        expect(page.locator("#chart-meta")).to_contain_text("第2版", timeout=10_000)
        expect(page.locator("#chart-meta")).to_contain_text("山田医師")

        with page.expect_download() as download:
            page.click("#export-md")
        assert EDITED in Path(download.value.path()).read_text(encoding="utf-8")
        assert not errors, errors
    finally:
        server.stop()

    server = Serve(db, port)  # the same database, a new process
    try:
        record = httpx.get(f"{server.url}/v1/visits/{visit_id}").json()
        assert [v["source"] for v in record["versions"]] == ["model", "edit"]
        assert record["edits"][0]["author"] == "山田医師"
        assert EDITED in record["edits"][0]["what"]["soap"]["A"]["added"]
        assert record["utterances"][1]["corrected"] and record["utterances"][1]["speaker"] == "患者"

        page = browser.new_page(viewport={"width": 1366, "height": 768})
        page.goto(f"{server.url}/#{visit_id}")
        expect(page.locator("#chart .line .text", has_text=EDITED)).to_be_visible(timeout=10_000)
        expect(page.locator("#transcript .utterance")).to_have_count(3)
    finally:
        server.stop()
