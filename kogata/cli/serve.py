"""`kogata serve`: the local server (OpenAI-compatible API, visits, charts) on this machine.

Two shared option names take a serving form here: --model/-m repeats (the models to serve, the first the
default), and --adapter NAME[=FILE] registers a per-request adapter under NAME (requests pick it as
`model:NAME`) instead of applying one to the whole command; a bare NAME is an adapter `kogata tune` registered,
resolved like every other command's --adapter (kogata.adapters.resolve) when the server checks it against its base.
With --backend URL (or KOGATA_BACKEND) generation goes to that OpenAI-compatible server: --model names its models
(default: the first it lists), and --backend-model ADAPTER=NAME serves its model NAME as `model:ADAPTER`.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path
from urllib.parse import urlsplit

import click

from kogata.cli import options
from kogata.errors import InputError


def is_loopback(host: str) -> bool:
    """True for addresses only this machine can reach (127.0.0.0/8, ::1, localhost)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:  # a host name: it may resolve to any interface
        return False


def check_binding(host: str, api_key: str | None) -> None:
    """Refuse to listen beyond this machine without an API key: visits hold patients' words."""
    if not is_loopback(host) and not api_key:
        raise InputError(
            f"refusing to listen on {host} without an API key: anyone who can reach this machine could read "
            "patients' visits. Pass --api-key KEY (or set KOGATA_API_KEY), or bind to 127.0.0.1"
        )


def parse_adapters(values: tuple[str, ...]) -> dict[str, str]:
    """--adapter NAME=FILE (a LoRA GGUF) or --adapter NAME (one `kogata tune` registered) → {name: file or name}."""
    adapters = {}
    for value in values:
        name, sep, path = value.partition("=")
        name, path = name.strip(), (path.strip() if sep else name.strip())
        if not name or not path:
            raise InputError(f"--adapter takes NAME=FILE or a registered NAME, not {value!r}")
        if ":" in name:
            raise InputError(f"adapter name {name!r} may not contain ':' (requests name it as model:adapter)")
        adapters[name] = path
    return adapters


@click.command()
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to listen on; anything but loopback needs --api-key.",
)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option(
    "--api-key",
    envvar="KOGATA_API_KEY",
    default=None,
    help="Require `Authorization: Bearer KEY` on every request (or set KOGATA_API_KEY).",
)
@click.option(
    "--model",
    "-m",
    "models",
    multiple=True,
    help="Model to serve (repeat for more; the first is the default). Default: the default model.",
)
@click.option(
    "--adapter",
    "adapters",
    multiple=True,
    metavar="NAME[=FILE]",
    help="A LoRA adapter for the first model (a GGUF file, or a name `kogata tune` registered); "
    "requests pick it as `model:NAME`. Repeatable.",
)
@click.option(
    "--registered-adapters/--no-registered-adapters",
    default=True,
    show_default=True,
    help="Also load every registered adapter trained on a served model.",
)
@click.option(
    "--queue",
    "waiting",
    default=4,
    show_default=True,
    type=click.IntRange(0, 64),
    help="Requests that may wait while one runs; beyond that: HTTP 503 with Retry-After.",
)
@click.option(
    "--store",
    "--db",
    "store",
    envvar="KOGATA_STORE",
    default=None,
    metavar="PATH|URL",
    help="Visit store: a SQLite file (default: $KOGATA_HOME/visits.sqlite3) or postgresql://user@host/db, which "
    "several replicas may share (or set KOGATA_STORE).",
)
@click.option(
    "--rules-only", is_flag=True, help="Load no model: charts hold the lines the rules read from the words (instant)."
)
@options.speech_adapter_option(
    "Speech decoder adapter: medical or clinic (bundled), none, or a .npz from `kogata tune-speech`."
)
@options.backend_option
@options.backend_model_option
@click.option("--threads", type=int, default=None, help="CPU threads for the model (default: all cores).")
@click.option("--n-ctx", default=4096, show_default=True, type=int, help="Context window in tokens.")
@click.option(
    "--log-level", default="info", show_default=True, type=click.Choice(["debug", "info", "warning", "error"])
)
@click.option(
    "--allowed-host",
    "allowed_hosts",
    multiple=True,
    metavar="NAME",
    help="A Host name clients may use besides loopback and --host (e.g. the clinic's DNS name). Repeatable; "
    "any other Host is refused with 400 (DNS rebinding).",
)
@click.option(
    "--allowed-origin",
    "allowed_origins",
    multiple=True,
    metavar="ORIGIN",
    help="A web origin (scheme://host[:port]) whose pages may write and open the live WebSocket, besides this "
    "server's own hosts. Repeatable; other origins get 403.",
)
@click.option(
    "--tls-cert", default=None, metavar="FILE", help="Serve HTTPS with this PEM certificate (with --tls-key)."
)
@click.option("--tls-key", default=None, metavar="FILE", help="The PEM private key of --tls-cert.")
@click.option(
    "--tls-self-signed",
    is_flag=True,
    help="Serve HTTPS with a certificate for this machine's names and addresses, made once under "
    "$KOGATA_HOME/tls and reused (browsers warn once; the banner prints its fingerprint). Browsers allow the "
    "microphone on another PC only over HTTPS.",
)
def serve(
    host: str,
    port: int,
    api_key: str | None,
    models: tuple[str, ...],
    adapters: tuple[str, ...],
    registered_adapters: bool,
    waiting: int,
    store: str | None,
    rules_only: bool,
    speech_adapter: str,
    threads: int | None,
    n_ctx: int,
    log_level: str,
    allowed_hosts: tuple[str, ...] = (),
    allowed_origins: tuple[str, ...] = (),
    tls_cert: str | None = None,
    tls_key: str | None = None,
    tls_self_signed: bool = False,
) -> None:
    """Serve the OpenAI-compatible API, visits and charts on HOST:PORT (logs are masked).

    A chart uses no language model unless its request names one (the served models answer chat and such requests).
    """
    import logging

    import uvicorn

    from kogata.engine import DEFAULT_MODEL, get_spec
    from kogata.privacy import install_masking
    from kogata.serve.app import create_app
    from kogata.serve.services import ServerConfig, Services
    from kogata.speech.adapter import resolve as resolve_speech_adapter
    from kogata.store import default_path, describe, is_store_url

    check_binding(host, api_key)  # before anything loads
    cert, key = tls_files(tls_cert, tls_key, tls_self_signed)
    url, backend_models = options.backend()
    if url and rules_only:
        raise InputError("--rules-only loads no model, so there is nothing to send to --backend: give one or the other")
    if url:
        names, mapped = _backend_names(url, backend_models, models, adapters)
    else:
        names = tuple(get_spec(m).name for m in models) or (DEFAULT_MODEL,)  # unknown model: error now, not later
        mapped = {}
    resolve_speech_adapter(speech_adapter)  # a missing file: error now, not at the first visit
    config = ServerConfig(
        models=names,
        adapters=parse_adapters(adapters),
        registered_adapters=registered_adapters,
        waiting=waiting,
        db=store if store and is_store_url(store) else Path(store) if store else default_path(),
        n_ctx=n_ctx,
        threads=threads,
        speech_adapter=speech_adapter,
        backend=url,
        backend_models=mapped,
        rules_only=rules_only,
    )
    install_masking(getattr(logging, log_level.upper()))
    urls = page_urls(host, port, https=cert is not None)
    hosts = allowed_hosts + tuple(urlsplit(u).netloc.rsplit(":", 1)[0] for u in urls)  # every URL shown works
    if cert is not None:
        from kogata.serve.tls import cert_names

        hosts += tuple(f"[{n}]" if ":" in n else n for n in cert_names(cert))
    app = create_app(  # adapters are checked against their base here
        Services(config), api_key=api_key, host=host, hosts=hosts, origins=allowed_origins
    )
    where = f"on {url}" if url else "(rules only: no model)" if rules_only else "(loading in the background)"
    click.echo(banner(urls, names, where, describe(config.db), api_key is not None, cert), err=True)
    uvicorn.run(
        app,
        host=host,
        port=port,
        log_config=None,
        log_level=log_level,
        timeout_graceful_shutdown=5,
        ssl_certfile=str(cert) if cert else None,
        ssl_keyfile=str(key) if key else None,
    )


def tls_files(cert: str | None, key: str | None, self_signed: bool) -> tuple[Path | None, Path | None]:
    """The certificate and key to serve HTTPS with (checked now: a bad pair is one line, exit 2), or (None, None)."""
    from kogata.serve import tls

    if self_signed and (cert or key):
        raise InputError("give either --tls-self-signed or --tls-cert/--tls-key, not both")
    if bool(cert) != bool(key):
        raise InputError("--tls-cert and --tls-key go together: give both (PEM files)")
    if self_signed:
        return tls.self_signed()
    if cert and key:
        tls.check_pair(cert, key)
        return Path(cert), Path(key)
    return None, None


def page_urls(host: str, port: int, *, https: bool) -> list[str]:
    """The page's URLs: every LAN address (and the host name) when bound to all interfaces, else the bound one."""
    from kogata.serve.tls import lan_addresses

    scheme = "https" if https else "http"
    if host in ("0.0.0.0", "::", "[::]", ""):
        import socket

        names = lan_addresses() + [socket.gethostname().lower()]
        if host == "0.0.0.0":
            names = [n for n in names if ":" not in n]
        names.append("127.0.0.1")
    else:
        names = [host]
    return [f"{scheme}://{f'[{n}]' if ':' in n else n}:{port}/" for n in dict.fromkeys(names)]


def banner(urls: list[str], models: tuple[str, ...], where: str, db: str, key: bool, cert: Path | None) -> str:
    """What the server says when it starts: where the page is, the API base, and whether a key is needed."""
    lines = [f"kogata serve: models {', '.join(models)} {where}  visits {db}"]
    lines += [f"  page (ページ)   {u}" for u in urls]
    lines.append(f"  API base       {urls[0]}v1")
    if key:
        lines.append("  API key        required (the page asks for it once per tab)")
    else:
        lines.append("  API key        not required (this machine only)")
    if cert is not None:
        from kogata.serve.tls import fingerprint

        lines.append(f"  TLS            {cert}  SHA-256 {fingerprint(cert)}")
    else:
        lines.append("  TLS            off: other PCs' browsers refuse the microphone (--tls-self-signed)")
    return "\n".join(lines)


def _backend_names(
    url: str, values: tuple[str, ...], models: tuple[str, ...], adapters: tuple[str, ...]
) -> tuple[tuple[str, ...], dict[str, str]]:
    """The models served from the backend at `url` (as --model names them, else the first it lists, asked now) and
    {adapter: backend model}. A LoRA file cannot be applied there: --adapter is refused."""
    from kogata.engine.remote import connect, parse_backend_models

    if adapters:
        raise InputError(
            "--adapter loads a LoRA file here, which a --backend cannot apply: serve the adapter on the backend "
            "and name it with --backend-model ADAPTER=NAME"
        )
    base, mapped = parse_backend_models(values)
    names = models or ((base,) if base else (connect(url).spec.name,))
    return tuple(dict.fromkeys(names)), mapped
