"""The page in a real browser: Debian chromium driven by Playwright, a synthesised Japanese consultation as the fake
microphone, and `kogata serve` (the 0.5B model) in a subprocess.

The doctor's day, as from another PC on the LAN: the server listens on every interface over HTTPS with a
self-signed certificate and an API key, and the page is opened at the machine's LAN address (not loopback, so the
microphone works only because the origin is https). The test types the key, starts a visit with the patient's
identity, records consent, records (the level meter moves, partial text appears while the words are spoken, then
the finals), ends the visit (the chart appears), clicks a line (its evidence is highlighted), corrects a speaker,
edits a line and saves it, signs (確定), copies the chart as text, prints, reads the history, and downloads a FHIR
Bundle that says `final` with the patient, the encounter and the practitioner. It then restarts the server on the
same database and home: the certificate is reused, and the visit (edit, signature, correction) is all there.

The second test holds the page's stated troubles: no HTTPS from another PC, permission denied, server busy. The
third shows a guessed speaker label the recogniser was unsure of: dashed 患者? after a reload, a first click that
confirms the guess, and later clicks that cycle 医師 → 患者 → 家族, each saved as a correction.
A screenshot goes to bench/out/page.png.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
from servers import ServerThread, free_port

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = Path(os.environ.get("KOGATA_CHROMIUM", "/usr/bin/chromium"))
SCRIPT = ROOT / "data" / "speech" / "short_visit.txt"
EDITED = "医師が書き直した評価の行。"
KEY = "clinic-key-7"
PATIENT = {"id": "P-000123", "name": "山田 太郎", "birth_date": "1960-04-01"}
BROWSER_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--autoplay-policy=no-user-gesture-required",
]

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason=f"no chromium at {CHROMIUM} (apt-get install chromium)")


def lan_address() -> str:
    """An address of this machine other PCs could use; 127.0.0.1 where it has none (the https path still runs)."""
    from kogata.serve.tls import lan_addresses

    found = [a for a in lan_addresses() if ":" not in a]
    return found[0] if found else "127.0.0.1"


class Serve:
    """`kogata serve --model small` in a subprocess, ready once /health says the model is loaded; `banner` holds
    what it printed on start-up."""

    def __init__(self, db: Path, port: int, *extra: str, scheme: str = "http", env: dict | None = None):
        self.url = f"{scheme}://127.0.0.1:{port}"
        kogata = shutil.which("kogata", path=str(Path(sys.executable).parent))
        command = [kogata] if kogata else [sys.executable, "-c", "from kogata.cli import main; main()"]
        command += ["serve", "--model", "small", "--port", str(port), "--db", str(db), "--threads", "2"]
        command += ["--no-registered-adapters", "--log-level", "warning", *extra]
        self.process = subprocess.Popen(
            command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env={**os.environ, **(env or {})}
        )
        self.lines: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()
        headers = {"Authorization": f"Bearer {KEY}"}
        deadline = time.time() + 600
        while True:
            assert self.process.poll() is None, "\n".join(self.lines)
            try:
                if httpx.get(self.url + "/health", timeout=2, verify=False, headers=headers).json()["status"] == "ok":
                    return
            except httpx.HTTPError:
                pass
            assert time.time() < deadline, "kogata serve did not get ready in 600 s"
            time.sleep(0.2)

    def _read(self) -> None:
        for line in self.process.stderr:
            self.lines.append(line.decode(errors="replace").rstrip())

    @property
    def banner(self) -> str:
        return "\n".join(self.lines)

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
def playwright():
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        yield p


@pytest.fixture(scope="module")
def browser(playwright, microphone):
    browser = playwright.chromium.launch(
        executable_path=str(CHROMIUM),
        args=[
            *BROWSER_ARGS,
            "--ignore-certificate-errors",  # the self-signed certificate, accepted once by the doctor in real life
            "--use-fake-ui-for-media-stream",
            "--use-fake-device-for-media-stream",
            f"--use-file-for-fake-audio-capture={microphone}",
        ],
    )
    yield browser
    browser.close()


def watch_partials(page) -> None:
    """Keep every text the page shows as 'still being spoken' (it is replaced within a second or so)."""
    page.evaluate(
        """() => { window.partials = [];
        new MutationObserver(() => { const t = document.querySelector('#partial p').textContent;
          if (t && !document.querySelector('#partial').hidden) window.partials.push(t); })
        .observe(document.querySelector('#partial'), {subtree: true, childList: true, characterData: true,
                 attributes: true}); }"""
    )


def test_a_doctors_day_over_https_from_another_pc(browser, tmp_path):
    from playwright.sync_api import expect

    db, port, home, lan = tmp_path / "visits.sqlite3", free_port(), tmp_path / "home", lan_address()
    args = ("--host", "0.0.0.0", "--api-key", KEY, "--tls-self-signed")
    server = Serve(db, port, *args, scheme="https", env={"KOGATA_HOME": str(home)})
    cert = home / "tls" / "kogata-cert.pem"
    url = f"https://{lan}:{port}/"
    try:
        assert url in server.banner and f"https://{lan}:{port}/v1" in server.banner, server.banner
        assert "API key        required" in server.banner and "SHA-256" in server.banner
        first_cert = cert.read_bytes()

        context = browser.new_context(viewport={"width": 1366, "height": 768}, accept_downloads=True)
        context.grant_permissions(["clipboard-read", "clipboard-write"], origin=url.rstrip("/"))
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(url)
        assert page.evaluate("window.isSecureContext")  # https at a LAN address: the microphone is allowed
        expect(page.locator("#key-dialog")).to_be_visible(timeout=10_000)
        page.fill("#key-text", KEY)
        page.click("#key-dialog button")
        expect(page.locator("#status")).to_have_text("準備完了", timeout=300_000)
        expect(page.locator("#notice")).to_be_hidden()

        page.fill("#author", "佐藤 花子")
        page.fill("#doctor-id", "dr.sato")
        page.click("#new-visit")
        form = page.locator("#visit-form")
        form.locator('[name="patient.id"]').fill(PATIENT["id"])
        form.locator('[name="patient.name"]').fill(PATIENT["name"])
        form.locator('[name="patient.birth_date"]').fill(PATIENT["birth_date"])
        form.locator('[name="patient.sex"]').select_option("male")
        form.locator('[name="encounter.department"]').fill("内科")
        page.click("#visit-ok")
        expect(page.locator("#mic")).to_be_enabled(timeout=10_000)
        visit_id = page.evaluate("location.hash.slice(1)")
        row = page.locator(f'#visit-list .visit[data-id="{visit_id}"]')
        expect(row.locator(".name")).to_have_text(PATIENT["name"], timeout=10_000)
        expect(row.locator(".badge")).to_have_text("カルテなし")

        watch_partials(page)
        page.click("#mic")  # consent first: nothing is recorded before it is given and stored
        expect(page.locator("#consent-dialog")).to_be_visible()
        page.check("#consent-check")
        page.click("#consent-ok")
        expect(page.locator("#consent-text")).to_contain_text("録音同意済（患者本人")
        expect(page.locator("#mic")).to_have_text("■ 録音停止", timeout=10_000)
        expect(page.locator("#meter")).to_have_attribute("data-heard", "1", timeout=30_000)  # the level moved
        expect(page.locator("#transcript .utterance:not(.partial)")).to_have_count(3, timeout=300_000)
        page.click("#mic")  # stop before the file loops
        partials = page.evaluate("window.partials")
        finals = page.locator("#transcript .utterance:not(.partial) p").all_inner_texts()
        assert partials, "no words were shown while they were being spoken"
        assert any(p[:3] in f for p in partials for f in finals), (partials, finals)
        first = page.locator("#transcript .utterance").first
        expect(first.locator(".speaker")).to_have_text("医師")
        assert "今日" in first.locator("p").inner_text()

        page.click("#end")
        expect(page.locator("#chart .line").first).to_be_visible(timeout=900_000)
        expect(page.locator("#chart-meta")).to_contain_text("第1版")
        expect(page.locator("#chart-status")).to_have_text("下書き")
        page.locator("#chart .line", has=page.locator(".ev", has_text="発言")).first.click()
        expect(page.locator("#transcript .utterance.evidence").first).to_be_visible()

        for label in ("家族", "医師", "患者"):  # the patient's line was labelled right; cycle round and back
            page.locator("#u2 .speaker").click()
            expect(page.locator("#u2 .speaker")).to_have_text(label)

        page.locator('#chart .section[data-section="A"] h3 button').click()  # a line of the doctor's own
        page.locator('#chart .section[data-section="A"] .line .text').last.fill(EDITED)
        page.click("#save")
        expect(page.locator("#chart-meta")).to_contain_text("第2版", timeout=10_000)
        expect(page.locator("#chart-status")).to_have_text("下書き")

        page.click("#sign")
        expect(page.locator("#chart-status")).to_have_text("確定", timeout=10_000)
        expect(page.locator("#chart-meta")).to_contain_text("第3版")
        expect(page.locator("#chart-meta")).to_contain_text("佐藤 花子")
        expect(page.locator("#sign")).to_be_disabled()
        expect(row.locator(".badge")).to_have_text("確定", timeout=10_000)
        page.screenshot(path=str(ROOT / "bench" / "out" / "page.png"))

        page.click("#copy")
        copied = page.evaluate("navigator.clipboard.readText()")
        assert copied.startswith("【確定】第3版") and PATIENT["name"] in copied and EDITED in copied, copied
        assert "A（評価）" in copied and "P（計画）" in copied

        page.emulate_media(media="print")  # the print stylesheet: the chart with patient and status, nothing else
        expect(page.locator("#day-pane")).to_be_hidden()
        expect(page.locator("#transcript-pane")).to_be_hidden()
        expect(page.locator("#print-head")).to_contain_text("【確定】")
        expect(page.locator("#print-head")).to_contain_text(PATIENT["id"])
        expect(page.locator("#chart .line .text", has_text=EDITED)).to_be_visible()
        page.emulate_media(media="screen")

        page.click("#history")
        history = page.locator("#history-table tbody tr")
        expect(history).to_have_count(3)
        expect(history.nth(0)).to_contain_text("自動作成")
        expect(history.nth(1)).to_contain_text("編集")
        expect(history.nth(2)).to_contain_text("佐藤 花子")
        expect(history.nth(2).locator(".badge")).to_have_text("確定")
        page.click("#history-dialog .dialog-actions button")

        with page.expect_download() as download:
            page.click("#export-fhir")
        bundle = json.loads(Path(download.value.path()).read_text(encoding="utf-8"))
        resources = {e["resource"]["resourceType"]: e["resource"] for e in bundle["entry"]}
        assert resources["Composition"]["status"] == "final"
        assert any(i["value"] == PATIENT["id"] for i in resources["Patient"]["identifier"])
        assert resources["Patient"]["birthDate"] == PATIENT["birth_date"]
        assert "Encounter" in resources and "Practitioner" in resources
        assert "佐藤" in json.dumps(resources["Practitioner"]["name"], ensure_ascii=False)
        assert EDITED in json.dumps(resources["Composition"], ensure_ascii=False)

        # An edit after the signature is a new, amended version; the signed one stays.
        page.locator('#chart .section[data-section="A"] .line .text').last.fill(EDITED + "追記。")
        page.click("#save")
        expect(page.locator("#chart-status")).to_have_text("修正あり", timeout=10_000)
        expect(row.locator(".badge")).to_have_text("修正あり", timeout=10_000)
        assert not errors, errors
    finally:
        server.stop()

    server = Serve(db, port, *args, scheme="https", env={"KOGATA_HOME": str(home)})  # same database and home
    try:
        assert cert.read_bytes() == first_cert  # the certificate is reused, so browsers do not warn again
        headers = {"Authorization": f"Bearer {KEY}"}
        record = httpx.get(f"{server.url}/v1/visits/{visit_id}", headers=headers, verify=False).json()
        assert [v["status"] for v in record["versions"]] == ["draft", "draft", "signed", "amended"]
        assert record["patient"]["id"] == PATIENT["id"] and record["consent"]["given"]
        assert record["utterances"][1]["corrected"] and record["utterances"][1]["speaker"] == "患者"

        page = browser.new_page(viewport={"width": 1366, "height": 768})
        page.add_init_script(f"sessionStorage.setItem('kogata-key', {json.dumps(KEY)})")
        page.goto(f"{url}#{visit_id}")
        expect(page.locator("#chart .line .text", has_text=EDITED + "追記。")).to_be_visible(timeout=10_000)
        expect(page.locator("#transcript .utterance:not(.partial)")).to_have_count(3)
        expect(page.locator("#consent-text")).to_contain_text("録音同意済")
    finally:
        server.stop()


@pytest.fixture()
def offline_server(tmp_path):
    """An in-process server on every interface whose model is a backend that is not there: enough for the page's
    own states, with nothing to load. Yields (port, app)."""
    from kogata.serve import ServerConfig, Services, create_app

    config = ServerConfig(
        models=("offline",), backend="http://127.0.0.1:9", registered_adapters=False, db=tmp_path / "v.sqlite3"
    )
    app = create_app(Services(config), host="0.0.0.0", hosts=(lan_address(),))
    with ServerThread(app, host="0.0.0.0") as running:
        yield running.port, app


def test_the_page_says_what_stops_recording(playwright, offline_server):
    """No HTTPS from another PC, no microphone, permission denied, and a server that is busy: each is said on the
    page in words a clinic can act on, and nothing breaks."""
    from playwright.sync_api import expect

    port, app = offline_server
    lan = lan_address()
    browser = playwright.chromium.launch(
        executable_path=str(CHROMIUM),
        args=[*BROWSER_ARGS, "--use-fake-device-for-media-stream", "--deny-permission-prompts"],
    )
    try:
        page = browser.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        if lan != "127.0.0.1":  # plain http at a LAN address: the browser will not lend the microphone
            page.goto(f"http://{lan}:{port}/")
            expect(page.locator("#notice")).to_have_attribute("data-kind", "insecure")
            expect(page.locator("#notice")).to_contain_text("HTTPS")

        page.goto(f"http://127.0.0.1:{port}/")  # loopback is a secure origin: the microphone may be asked for
        expect(page.locator("#notice")).to_be_hidden()  # /health's 503 (its backend is away) is a state, not "busy"
        expect(page.locator("#status")).to_contain_text("モデルが使えません", timeout=15_000)
        page.click("#new-visit")
        page.click("#visit-ok")
        expect(page.locator("#mic")).to_be_enabled(timeout=10_000)
        page.click("#mic")
        page.check("#consent-check")
        page.click("#consent-ok")
        expect(page.locator("#notice")).to_have_attribute("data-kind", "denied", timeout=10_000)
        expect(page.locator("#notice")).to_contain_text("許可")
        expect(page.locator("#mic")).to_have_text("● 録音開始")  # not recording

        app.state.max_live = 0  # every live visit slot taken
        page.click("#new-visit")
        page.click("#visit-ok")
        expect(page.locator("#notice")).to_have_attribute("data-kind", "busy", timeout=10_000)
        expect(page.locator("#mic")).to_be_disabled()
        assert not errors, errors
    finally:
        browser.close()

    browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=BROWSER_ARGS)  # no microphone at all
    try:
        page = browser.new_page()
        page.goto(f"http://127.0.0.1:{port}/")
        if page.evaluate("navigator.mediaDevices.enumerateDevices().then(d => d.some(x => x.kind === 'audioinput'))"):
            pytest.skip("this machine has a real microphone")
        expect(page.locator("#notice")).to_have_attribute("data-kind", "no-mic")
        expect(page.locator("#notice")).to_contain_text("マイクが見つかりません")
    finally:
        browser.close()


def test_an_unsure_label_stays_unsure_after_a_reload_and_a_click_makes_it_sure(playwright, offline_server):
    """The guess is stored, so a reload shows an unsure label as 患者? with a dashed edge again; a click on a label
    cycles 医師 → 患者 → 家族 and saves it (PATCH): the label is sure from then on, across reloads, and the guess stays
    in the visit's history. The first click on an unsure guess confirms it; later clicks change it."""
    from playwright.sync_api import expect

    port, _ = offline_server
    base = f"http://127.0.0.1:{port}"
    visit = httpx.post(base + "/v1/visits", json={}).json()["id"]
    heard = [
        {"speaker": "医師", "text": "今日はどうされましたか。", "speaker_confidence": 0.93, "speaker_sure": True},
        {"speaker": "患者", "text": "それで、その。", "speaker_confidence": 0.55, "speaker_sure": False},
        {"speaker": "家族", "text": "母です。"},  # typed: a person's label
    ]
    assert httpx.post(f"{base}/v1/visits/{visit}/utterances", json={"utterances": heard}).status_code == 201
    browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=BROWSER_ARGS)
    try:
        page = browser.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(f"{base}/#{visit}")
        unsure, sure, typed = (page.locator(f"#u{n} .speaker") for n in (2, 1, 3))
        for _ in range(2):  # as first opened, and after a reload: the guess comes back from the store
            expect(unsure).to_have_text("患者?", timeout=10_000)
            expect(unsure).to_have_class(re.compile(r"\bunsure\b"))
            assert unsure.evaluate("el => getComputedStyle(el).borderTopStyle") == "dashed"
            expect(sure).to_have_text("医師")
            expect(typed).to_have_text("家族")
            for label in (sure, typed):
                expect(label).not_to_have_class(re.compile(r"\bunsure\b"))
                assert label.evaluate("el => getComputedStyle(el).borderTopStyle") != "dashed"
            page.reload()

        for label in ("患者", "家族", "医師", "患者"):  # confirm, then cycle: each click a stored correction
            unsure.click()
            expect(unsure).to_have_text(label)
            expect(unsure).not_to_have_class(re.compile(r"\bunsure\b"))
            expect(unsure).to_have_class(re.compile(r"\bcorrected\b"))
        typed.click()  # a label the list does not end on goes on to the next one
        expect(typed).to_have_text("医師")

        page.reload()
        expect(unsure).to_have_text("患者", timeout=10_000)
        expect(unsure).to_have_class(re.compile(r"\bcorrected\b"))
        expect(unsure).not_to_have_class(re.compile(r"\bunsure\b"))
        assert not errors, errors
    finally:
        browser.close()
    record = httpx.get(f"{base}/v1/visits/{visit}").json()["utterances"]
    assert [(u["speaker"], u["speaker_sure"], u["corrected"]) for u in record] == [
        ("医師", True, False),
        ("患者", True, True),
        ("医師", True, True),
    ]
    (guessed, typed_row) = httpx.get(f"{base}/v1/visits/{visit}/history").json()["utterances"]
    assert (guessed["speaker"], guessed["speaker_confidence"], guessed["speaker_sure"]) == ("患者", 0.55, False)
    assert [c["speaker"] for c in guessed["corrections"]] == ["患者", "家族", "医師", "患者"]
    assert (typed_row["speaker"], typed_row["speaker_sure"]) == ("家族", None)
