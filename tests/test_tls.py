"""HTTPS for the LAN (kogata.serve.tls, `kogata serve --tls-…`): the self-signed certificate is made once, reused,
valid for the machine's names (a real TLS client checks it), and bad files are one line with exit 2."""

from __future__ import annotations

import os
import socket
import ssl
import stat
import subprocess
import sys
import threading
import time

import httpx
import pytest

from kogata.errors import InputError
from kogata.serve import tls

KOGATA = [sys.executable, "-m", "kogata.cli"]


def test_the_certificate_is_made_once_and_reused_while_it_fits(tmp_path):
    names = ("clinic-pc", "clinic-pc.local", "192.168.1.20", "localhost", "127.0.0.1")
    cert, key = tls.self_signed(tmp_path, names)
    assert set(tls.cert_names(cert)) == set(names)
    assert stat.S_IMODE(key.stat().st_mode) == 0o600  # the private key is the owner's alone
    made = cert.read_bytes()
    assert tls.self_signed(tmp_path, names) == (cert, key) and cert.read_bytes() == made  # reused: no new warning
    # a new address the old certificate does not name: a new certificate that names it
    tls.self_signed(tmp_path, (*names, "192.168.1.21"))
    assert cert.read_bytes() != made and "192.168.1.21" in tls.cert_names(cert)
    tls.check_pair(cert, key)
    assert len(tls.fingerprint(cert).split(":")) == 32


def test_machine_names_hold_the_host_name_and_loopback():
    names = tls.machine_names()
    assert {"localhost", "127.0.0.1"} <= set(names)
    assert socket.gethostname().lower() in names
    assert all(not a.startswith("127.") for a in tls.lan_addresses())


def test_bad_pairs_are_one_line(tmp_path):
    cert, key = tls.self_signed(tmp_path / "a", ("localhost",))
    other_cert, other_key = tls.self_signed(tmp_path / "b", ("localhost",))
    with pytest.raises(InputError, match="no such file"):
        tls.check_pair(tmp_path / "missing.pem", key)
    with pytest.raises(InputError, match="not a PEM certificate"):
        tls.check_pair(key, cert)
    with pytest.raises(InputError, match="this certificate's"):
        tls.check_pair(cert, other_key)


@pytest.mark.parametrize(
    "args, message",
    [
        (["--tls-cert", "/nonexistent/c.pem", "--tls-key", "/nonexistent/k.pem"], "no such file"),
        (["--tls-cert", "/nonexistent/c.pem"], "go together"),
        (["--tls-self-signed", "--tls-key", "k.pem"], "not both"),
    ],
)
def test_serve_refuses_bad_tls_options_with_one_line_and_exit_2(args, message, tmp_path):
    out = subprocess.run(
        [*KOGATA, "serve", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "KOGATA_HOME": str(tmp_path)},
    )
    assert out.returncode == 2, out.stderr
    assert message in out.stderr and len(out.stderr.strip().splitlines()) == 1, out.stderr


def test_a_tls_client_trusting_the_certificate_reaches_the_server_by_address(tmp_path):
    """The certificate really is for this machine: a client that trusts it (and checks host names) connects."""
    import uvicorn
    from fastapi import FastAPI

    cert, key = tls.self_signed(tmp_path, tls.machine_names())
    app = FastAPI()
    app.get("/health")(lambda: {"status": "ok"})
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(
            app, host="127.0.0.1", port=port, ssl_certfile=str(cert), ssl_keyfile=str(key), log_level="error"
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.time() + 30
        while not server.started:
            assert time.time() < deadline
            time.sleep(0.05)
        trusting = ssl.create_default_context(cafile=str(cert))
        assert httpx.get(f"https://127.0.0.1:{port}/health", verify=trusting).json() == {"status": "ok"}
        with pytest.raises(httpx.ConnectError):  # a client that does not trust it is refused: it is real TLS
            httpx.get(f"https://127.0.0.1:{port}/health", verify=ssl.create_default_context())
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def test_the_banner_says_where_the_page_is():
    from kogata.cli.serve import banner, page_urls

    urls = page_urls("0.0.0.0", 8443, https=True)
    for address in tls.lan_addresses():
        if ":" not in address:
            assert f"https://{address}:8443/" in urls
    assert urls[-1] == "https://127.0.0.1:8443/"
    assert page_urls("127.0.0.1", 8000, https=False) == ["http://127.0.0.1:8000/"]
    text = banner(urls, ("qwen2.5-coder-0.5b",), "(loading)", "v.sqlite3", True, None)
    assert f"API base       {urls[0]}v1" in text and "API key        required" in text
    assert "--tls-self-signed" in text  # without TLS it says what other PCs' browsers will refuse
