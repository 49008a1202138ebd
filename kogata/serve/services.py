"""What every route shares: the loaded models, the line in front of them, the visit store, the recogniser.

Models load in a background thread when the server starts, so the port (and the visit store) answer at
once; model work waits for its model inside the queue. `services.resolve("qwen2.5-coder-1.5b:clinic")`
turns an OpenAI `model` field into a loaded model and a LoRA adapter name.

With `ServerConfig.backend` (`kogata serve --backend URL`), no weights load here: each served model is the model
of that name on an OpenAI-compatible server (kogata.engine.remote), and its adapters are backend models
(`backend_models`: adapter → the backend's model name); everything else is served as without one.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kogata.adapters import list_adapters, resolve
from kogata.engine import Model, RemoteModel, connect, get_spec, load
from kogata.errors import InputError, ModelError
from kogata.serve.queue import ModelQueue
from kogata.store import VisitStore, open_store

log = logging.getLogger("kogata.serve")

ADAPTER_SEPARATOR = ":"  # "base:adapter" picks a LoRA adapter per request
LOAD_TIMEOUT_S = 600
RULES = "rules"  # the target of every request on a --rules-only server; what writes its charts
BACKEND_PROBE_S = 5.0  # /health asks a generation backend at most this often


@dataclass
class ServerConfig:
    """Everything `kogata serve` was started with (the API key is held by the app, not here)."""

    models: tuple[str, ...] = ("qwen2.5-coder-1.5b",)  # the first is the default for requests without a match
    adapters: dict[str, str] = field(default_factory=dict)  # LoRA name → GGUF path or registered name (first model)
    registered_adapters: bool = True  # also load every adapter `kogata tune` registered for a served model
    waiting: int = 4
    db: str | Path | None = None  # the visit store: a SQLite file, or a postgresql:// URL (kogata.store.open_store)
    n_ctx: int = 4096
    threads: int | None = None
    speech_adapter: str = "clinic"  # kogata.speech.adapter: clinic, medical, none, or a .npz path
    backend: str | None = None  # URL of an OpenAI-compatible server that generates for every served model
    backend_models: dict[str, str] = field(default_factory=dict)  # with backend: adapter → backend model name
    rules_only: bool = False  # no model at all: charts hold the lines the rules read (kogata karte --rules-only)


class ModelNotFound(InputError):
    """A request named a model (or adapter) this server does not serve."""


@dataclass(frozen=True)
class Target:
    """A request's model: the registry name of a loaded base model, and a LoRA adapter or None."""

    base: str
    adapter: str | None

    @property
    def id(self) -> str:
        return self.base + (ADAPTER_SEPARATOR + self.adapter if self.adapter else "")


class Services:
    def __init__(
        self, config: ServerConfig, *, store: VisitStore | None = None, preloaded: dict[str, Model] | None = None
    ):
        self.config = config
        # a backend's models are named as it names them; local ones by the registry (ModelError for unknown)
        self.names = tuple(dict.fromkeys(n if config.backend else get_spec(n).name for n in config.models))
        if not self.names:
            raise InputError("give at least one model to serve")
        self.adapters = {name: _adapters_for(name, config, first=i == 0) for i, name in enumerate(self.names)}
        self.queue = ModelQueue(config.waiting)
        self.store = store if store is not None else open_store(config.db)
        self._models: dict[str, Model] = dict(preloaded or {})
        self._load_errors: dict[str, str] = {}
        self._loaded = threading.Event()
        self._asr: Any = None
        self._asr_lock = threading.Lock()
        self._probes: dict[str, tuple[float, str | None]] = {}  # backend model → (when asked, what was wrong)
        self._probe_lock = threading.Lock()
        if all(n in self._models for n in self.names):
            self._loaded.set()

    # ── models ──

    def start_loading(self) -> None:
        """Load every configured model in a background thread (a few seconds each)."""
        if self._loaded.is_set() or self.config.rules_only:
            return
        threading.Thread(target=self._load_all, name="kogata-model-load", daemon=True).start()

    def _load_all(self) -> None:
        for name in self.names:
            if name in self._models:
                continue
            try:
                adapters = self.adapters[name] or None
                if self.config.backend:
                    self._models[name] = connect(self.config.backend, model=name, adapters=adapters)
                else:
                    self._models[name] = load(
                        name, n_ctx=self.config.n_ctx, threads=self.config.threads, adapters=adapters, progress=False
                    )
                log.info("model %s ready%s", name, f" with adapters {', '.join(adapters)}" if adapters else "")
            except Exception as e:  # kept for every request that needs this model, and for /health
                self._load_errors[name] = str(e)
                log.error("model %s failed to load: %s", name, e)
        self._loaded.set()

    def model(self, name: str) -> Model:
        """The loaded model (waits while it loads; call from a queue job, never the event loop)."""
        if self.config.rules_only:
            raise ModelError("this server charts by rules only (kogata serve --rules-only): no model is loaded")
        if not self._loaded.wait(LOAD_TIMEOUT_S):
            raise ModelError(f"model {name} is still loading after {LOAD_TIMEOUT_S} s")
        if name in self._load_errors:
            raise ModelError(f"model {name} failed to load: {self._load_errors[name]}")
        return self._models[name]

    def adapter_names(self, base: str) -> list[str]:
        if base in self._models:
            return list(self._models[base].adapters)
        return list(self.adapters.get(base, {}))

    def model_ids(self) -> list[str]:
        """What /v1/models lists: each base model, and `base:adapter` for each of its adapters."""
        return [
            f"{base}{suffix}"
            for base in self.names
            for suffix in ["", *(ADAPTER_SEPARATOR + a for a in self.adapter_names(base))]
        ]

    def resolve(self, requested: str | None) -> Target:
        """The model and adapter a request's `model` field names (a name or alias, optionally `:adapter`)."""
        if self.config.rules_only:  # every chart is the rules'; a chat request then fails in model()
            return Target(RULES, None)
        text = (requested or "").strip()
        base_name, _, adapter = text.partition(ADAPTER_SEPARATOR)
        base: str | None = self.names[0]
        if base_name in self.names:  # as served (a backend's model names are not in the registry)
            base = base_name
        elif base_name:
            try:
                base = get_spec(base_name).name
            except ModelError:
                base = None
        if base not in self.names:
            raise ModelNotFound(f"model {text!r} is not served here; available: {', '.join(self.model_ids())}")
        if adapter and adapter not in self.adapter_names(base):
            known = ", ".join(self.adapter_names(base)) or "none loaded (start the server with --adapter NAME=FILE)"
            raise ModelNotFound(f"adapter {adapter!r} is not loaded for {base}; adapters: {known}")
        return Target(base, adapter or None)

    def _backend_problem(self, name: str) -> str | None:
        """What is wrong with the backend that serves `name` (None: it answers and lists it), asked at most
        every BACKEND_PROBE_S seconds however often /health is called."""
        now = time.monotonic()
        with self._probe_lock:
            checked, problem = self._probes.get(name, (-BACKEND_PROBE_S, None))
            if now - checked < BACKEND_PROBE_S:
                return problem
            problem = self._models[name].probe()
            self._probes[name] = (now, problem)
            return problem

    def charts(self) -> str:
        """What writes a chart that names no model (kogata.serve.charts): never a language model, so it is ready
        whatever the models' state."""
        from kogata.tasks.karte.chart import made_by, use_parts

        return made_by(RULES, *use_parts(None, self.config.rules_only))

    def state(self) -> dict[str, Any]:
        """The server's health: each model ready, loading or in error (a backend is asked whether it answers);
        status "ok" only when every model is ready; `charts`: what writes a chart that names no model, ready in every
        state. Blocks up to a backend probe's timeout: call off the loop."""
        if self.config.rules_only:
            return {
                "status": "ok",
                "models": {n: "rules only" for n in self.names},
                "charts": self.charts(),
                "queue": self.queue.state(),
            }
        models = {}
        for n in self.names:
            if n in self._load_errors:
                models[n] = "error: " + self._load_errors[n]
            elif n not in self._models:
                models[n] = "loading"
            elif isinstance(self._models[n], RemoteModel) and (problem := self._backend_problem(n)):
                models[n] = "error: " + problem
            else:
                models[n] = "ready"
        errors = any(s.startswith("error") for s in models.values())
        status = "ok" if all(s == "ready" for s in models.values()) else ("error" if errors else "loading")
        return {"status": status, "models": models, "charts": self.charts(), "queue": self.queue.state()}

    # ── speech ──

    def asr(self) -> Any:
        """The speech recogniser, loaded on first use (call from a queue job)."""
        with self._asr_lock:
            if self._asr is None:
                speech = speech_module()
                self._asr = speech.load_asr(adapter=self.config.speech_adapter)
            return self._asr


def _adapters_for(base: str, config: ServerConfig, *, first: bool) -> dict[str, str]:
    """LoRA adapters to load with `base`: the registered ones trained on it, and (for the first model) the
    ones named on the command line, each checked against the base before anything loads."""
    if config.backend:  # adapters are models on the backend, not files here
        return dict(config.backend_models) if first else {}
    found: dict[str, str] = {}
    if config.registered_adapters:
        found.update({a.name: str(a.path) for a in list_adapters() if a.base == base})
    if first:
        found.update({name: str(resolve(value, base)) for name, value in config.adapters.items()})
    return found


def speech_module():
    """kogata.speech, imported only when audio arrives (it pulls in faster-whisper)."""
    try:
        import kogata.speech as speech
    except ImportError as e:
        raise ModelError(f"speech recognition is not available: {e}; install with: pip install 'kogata[speech]'") from e
    return speech
