"""The live visit: a WebSocket that takes the room's audio (or typed text) and gives back utterances and the chart.

    ws://127.0.0.1:8000/v1/visits/{id}/live?rate=16000&format=f32[&model=NAME]

With an API key, send `Authorization: Bearer KEY`, or (a browser cannot) offer the subprotocols
["kogata", "kogata.key.KEY"]: the server accepts with "kogata" and never echoes the key. Keep it out of the URL.

Client → server
    binary frames       mono PCM at `rate` Hz: little-endian float32 (`format=f32`) or int16 (`format=i16`)
    {"type": "utterance", "speaker": "医師", "text": "…"}       one typed utterance (a visit without audio)
    {"type": "transcript", "text": "医師：…\\n患者：…"}          a pasted transcript (lines or JSON), appended
    {"type": "end"}                                          the visit is over: finish the audio, draft the chart
Server → client
    {"type": "ready", "visit_id", "utterances": n, "last": {seq, speaker, text, …}|null}
                                                             audio and text are accepted from now on
    {"type": "partial", "text": "…"}                         the words of the utterance still being spoken (a
                                                             preview, about once a second; the next utterance or
                                                             partial replaces it; never stored)
    {"type": "utterance", "utterance": {seq, speaker, text, start, end, …}}   stored (committed) before it is sent;
                                                             with speaker_confidence (0–1) and speaker_sure (false:
                                                             the page shows 患者? — a guess), null for typed labels
    {"type": "draft", "action": "draft"|"prefill", …}         background work on the chart (for the page's status line)
    {"type": "chart", "version": {version, chart, author, …}, "seconds": s}   the drafted chart, stored as a version
    {"type": "error", "message": "…"}                        bad input; the connection stays open unless it cannot

Each utterance is written to the visit store the moment the recogniser makes it final, so a server that dies
mid-visit has lost only the speech still being spoken.
Resuming: a visit is its id, and everything about it is in the store, so a page whose connection drops (its
replica restarted, or died) connects again to the same /v1/visits/{id}/live through any replica on the same store.
`ready` then says how many utterances are stored and which was last: the page resends only what it sent after
that one (an utterance it saw acknowledged is always there), and the chart at `end` is drafted from them all.
The chart at `end` is the rules', the learned reader's and the learned drug status's, with no language model (as
`kogata karte` writes it): it never waits for a model to load. With `model=NAME` (a served model, or
`model:adapter`) that model also drafts what they leave: while the visit goes on it drafts finished windows of the
transcript and keeps the rest's prompt in its cache (kogata.tasks.karte.incremental), whenever the model queue is
free; that work is optional and never holds up an utterance. Speech recognition runs in its own thread per
connection, outside the model queue, so utterances keep coming while the model drafts.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from starlette.concurrency import run_in_threadpool

from kogata.engine.embed import EmbeddingCache
from kogata.errors import KogataError
from kogata.serve import charts
from kogata.serve.deps import api_error, services
from kogata.serve.guard import MAX_BODY_DEPTH, too_deep
from kogata.serve.queue import QueueFull
from kogata.serve.services import Target
from kogata.store import visit_transcript
from kogata.transcript import Utterance, parse_transcript

log = logging.getLogger("kogata.serve")
router = APIRouter(prefix="/v1")

RATES = range(8000, 96001)
FORMATS = {"f32": np.dtype("<f4"), "i16": np.dtype("<i2")}
MAX_FRAME_BYTES = 1 << 20  # one second of 48 kHz float32 is 192 KB; a bigger frame is not a live stream
LIVE_ACTOR = "live"
MAX_LIVE = 8  # live visits at once (create_app(max_live=)): each holds a recogniser thread and its audio
PARTIAL_EVERY = 1.0  # seconds of audio between previews of the utterance being spoken
PARTIAL_SHARE = 0.5  # at most this share of the recogniser's time goes to previews (a slow CPU gets fewer)


class LiveVisit:
    """One connection's state: the recogniser stream, the incremental chart, and the background job."""

    def __init__(self, ws: WebSocket, visit_id: str, rate: int, dtype: np.dtype, target: Target | None = None):
        self.ws = ws
        self.svc = services(ws)
        self.visit_id = visit_id
        self.rate = rate
        self.dtype = dtype
        self.target = target  # the model the session asked for (?model=), or None: no language model
        self.stream = None  # StreamingTranscriber, made when the first audio arrives
        self.chart = None  # IncrementalChart, made when the asked-for model is ready
        self.asr_thread = ThreadPoolExecutor(1, thread_name_prefix="kogata-live-asr")
        self.job = None  # the background draft/prefill job in the model queue, if one is running
        self.who = ws.headers.get("x-kogata-user") or LIVE_ACTOR
        self.audio_seconds = 0.0  # audio received so far
        self.next_partial = PARTIAL_EVERY  # audio time of the next preview
        self.embeddings = EmbeddingCache()  # the visit's vectors, warmed as it goes (warm())
        self.warming: asyncio.Task | None = None
        self.warm_again = False

    async def send(self, kind: str, **fields: Any) -> None:
        await self.ws.send_text(json.dumps({"type": kind, **fields}, ensure_ascii=False))

    async def error(self, exc: BaseException) -> None:
        message = str(exc) if isinstance(exc, KogataError) else str(api_error(exc))
        await self.send("error", message=message)

    # ── utterances in ──

    async def store(
        self, speaker: str, text: str, start: float | None = None, end: float | None = None, **guess: Any
    ) -> None:
        stored = await run_in_threadpool(
            self.svc.store.add_utterance, self.visit_id, speaker, text, start=start, end=end, actor=self.who, **guess
        )
        await self.send("utterance", utterance=stored.to_dict())
        if self.chart is not None:
            self.chart.add(Utterance(stored.seq, stored.speaker, stored.text, start, end))
        self.background()
        self.warm()

    async def store_heard(self, u: Utterance) -> None:
        """An utterance from the recogniser: stored like a typed one, with how sure the speaker label is
        (speaker_confidence, speaker_sure; the page marks an unsure label), so a reload shows it unsure again."""
        await self.store(
            u.speaker, u.text, u.start, u.end, speaker_confidence=u.speaker_confidence, speaker_sure=u.speaker_sure
        )

    async def audio(self, data: bytes) -> None:
        if len(data) % self.dtype.itemsize or len(data) > MAX_FRAME_BYTES:
            raise KogataError(
                f"an audio frame must be whole {self.dtype} samples and at most {MAX_FRAME_BYTES} "
                f"bytes (got {len(data)})"
            )
        samples = np.frombuffer(data, self.dtype)
        samples = samples.astype(np.float32) / 32768.0 if self.dtype.kind == "i" else samples.astype(np.float32)
        loop = asyncio.get_running_loop()
        finals, partial = await loop.run_in_executor(self.asr_thread, self._feed, samples)
        for u in finals:
            await self.store_heard(u)
        if partial:
            await self.send("partial", text=partial)

    def _feed(self, samples: np.ndarray) -> tuple[list, str | None]:
        """The utterances this audio finished, and a preview of the one still being spoken when one is due."""
        if self.stream is None:
            from kogata.speech import StreamingTranscriber

            self.stream = StreamingTranscriber(self.svc.asr(), sample_rate=self.rate)
        finals = self.stream.feed(samples)
        self.audio_seconds += len(samples) / self.rate
        if finals or self.audio_seconds < self.next_partial:
            return finals, None
        started = time.perf_counter()
        partial = self.stream.partial()
        cost = time.perf_counter() - started
        # Previews must not make the finals late: wait at least cost / PARTIAL_SHARE of audio before the next one.
        self.next_partial = self.audio_seconds + max(PARTIAL_EVERY, cost / PARTIAL_SHARE)
        return finals, partial

    async def text(self, message: dict) -> None:
        kind = message.get("type")
        if kind == "utterance":
            await self.store(str(message.get("speaker", "")), str(message.get("text", "")))
        elif kind == "transcript":
            transcript = parse_transcript(str(message.get("text", "")), source="pasted")
            for u in transcript.utterances:
                await self.store_heard(u)
        else:
            raise KogataError(f"unknown message type {kind!r}; send audio frames, utterance, transcript or end")

    # ── the chart, drafted as the visit goes on ──

    def background(self) -> None:
        """Start the next draft/prefill step if the model is free (never waits in line for it)."""
        if self.chart is None or (self.job is not None and not self.job.done) or not self.chart.pending():
            return
        queue = self.svc.queue
        if queue.state()["running"] or queue.state()["waiting"]:
            return  # someone else's request goes first; the next utterance tries again

        def work(job):
            return self.chart.step()

        try:
            self.job = queue.submit(work)
        except QueueFull:
            return
        asyncio.ensure_future(self._after(self.job))

    async def _after(self, job) -> None:
        try:
            step = await job.result()
        except Exception as e:  # a failed step only costs time at the end
            log.warning("live draft step failed: %s", e)
            return
        if step.action != "idle":
            try:
                await self.send(
                    "draft",
                    action=step.action,
                    utterances=step.utterances,
                    seconds=round(step.seconds, 2),
                    cached_tokens=step.cached_tokens,
                )
            except (WebSocketDisconnect, RuntimeError):  # the page left; the visit is stored
                return
        self.background()

    def warm(self) -> None:
        """Chart the visit so far in the background, for its vectors only: embedding is most of a chart's time, so
        the chart at `end` then embeds only what was said after the last warm-up (a 1,500-character visit: about
        5 s of embedding otherwise). At most one runs; utterances stored meanwhile start one more after it."""
        if self.target is not None or self.svc.config.rules_only:  # a model's own chart, or no learned part
            return
        if self.warming is not None and not self.warming.done():
            self.warm_again = True
            return
        self.warming = asyncio.ensure_future(self._warm())

    async def _warm(self) -> None:
        self.warm_again = True
        while self.warm_again:
            self.warm_again = False
            try:
                transcript = await run_in_threadpool(visit_transcript, self.svc.store, self.visit_id)
                await run_in_threadpool(charts.draft, self.svc, None, transcript, self.embeddings)
            except Exception as e:  # a failed warm-up only costs time at the end
                log.warning("live chart warm-up failed: %s", e)
                return

    async def start_chart(self) -> None:
        """The incremental chart, once the asked-for model is loaded, seeded with what the visit already holds."""
        from kogata.tasks.karte.incremental import IncrementalChart

        if self.target is None:  # no model asked for (or --rules-only): nothing to draft; the end charts it all
            return
        model = await run_in_threadpool(self.svc.model, self.target.base)
        chart = IncrementalChart(model, adapter=self.target.adapter)
        for u in await run_in_threadpool(self.svc.store.utterances, self.visit_id):
            chart.add(Utterance(u.seq, u.speaker, u.text, u.start, u.end))
        # From here store() adds each new utterance; one stored while the list above was read is missed by the
        # drafts, which only costs time (karte drafts whatever the kept windows do not match).
        self.chart = chart
        self.background()

    async def end(self) -> None:
        """Finish the audio, then draft the chart from the stored transcript (corrections applied)."""
        if self.stream is not None:
            loop = asyncio.get_running_loop()
            for u in await loop.run_in_executor(self.asr_thread, self.stream.flush):
                await self.store_heard(u)
            self.stream = None
        ended = time.perf_counter()
        if self.job is not None and not self.job.done:
            await asyncio.wait({asyncio.ensure_future(self.job.result())})  # a step already running finishes
        if self.warming is not None and not self.warming.done():
            self.warm_again = False
            await self.warming  # its vectors are the end chart's; two charts at once would embed twice
        transcript = await run_in_threadpool(visit_transcript, self.svc.store, self.visit_id)
        chart_state = self.chart

        def work(job):
            if chart_state is not None:
                return chart_state.finish(transcript)
            return charts.draft(self.svc, self.target, transcript, self.embeddings)

        chart = await self.svc.queue.submit(work).result()
        version = await run_in_threadpool(charts.keep, self.svc.store, self.visit_id, chart, transcript, self.target)
        await self.send("chart", version=version.to_dict(), seconds=round(time.perf_counter() - ended, 2))

    async def run(self) -> None:
        stored = await run_in_threadpool(self.svc.store.utterances, self.visit_id)
        await self.send(
            "ready",
            visit_id=self.visit_id,
            utterances=len(stored),
            last=stored[-1].to_dict() if stored else None,
        )
        starter = asyncio.ensure_future(self.start_chart())
        while True:
            message = await self.ws.receive()
            if message["type"] == "websocket.disconnect":
                return
            try:
                if message.get("bytes") is not None:
                    await self.audio(message["bytes"])
                    continue
                text = message.get("text") or "null"
                if too_deep(text) is not None:  # json.loads would end in RecursionError
                    raise KogataError(f"a text message is nested more than {MAX_BODY_DEPTH} levels deep")
                data = json.loads(text)
                if not isinstance(data, dict):
                    raise KogataError("a text message must be a JSON object with a `type`")
                if data.get("type") == "end":
                    if not starter.done():
                        await starter
                    await self.end()
                    continue
                await self.text(data)
            except WebSocketDisconnect:
                raise
            except json.JSONDecodeError as e:
                await self.send("error", message=f"a text message is not JSON ({e.msg})")
            except Exception as e:  # reported to the page; the visit goes on
                if not isinstance(e, KogataError):
                    log.error("live visit error", exc_info=e)
                await self.error(e)

    def close(self) -> None:
        if self.job is not None and not self.job.done:
            self.job.cancel()
        if self.warming is not None:
            self.warming.cancel()
        self.asr_thread.shutdown(wait=False, cancel_futures=True)


@router.websocket("/visits/{visit_id}/live")
async def live(ws: WebSocket, visit_id: str, rate: int = 16000, format: str = "f32", model: str | None = None) -> None:
    # A client that offered subprotocols (the key travels as one) must get one back, or browsers drop it.
    await ws.accept(subprotocol="kogata" if "kogata" in (ws.scope.get("subprotocols") or ()) else None)
    state = ws.app.state
    limit = getattr(state, "max_live", MAX_LIVE)
    if getattr(state, "live_connections", 0) >= limit:  # one event loop: no await between check and count
        message = f"{limit} live visits are open already; end one and try again"
        await ws.send_text(json.dumps({"type": "error", "message": message}, ensure_ascii=False))
        await ws.close(code=1013)  # try again later
        return
    state.live_connections = getattr(state, "live_connections", 0) + 1
    try:
        await _live(ws, visit_id, rate, format, model)
    finally:
        state.live_connections -= 1


async def _live(ws: WebSocket, visit_id: str, rate: int, format: str, model: str | None) -> None:
    svc = services(ws)
    try:
        target = charts.target(svc, model)  # ModelNotFound for a model not served here
        if rate not in RATES or format not in FORMATS:
            raise KogataError(
                f"rate must be 8000–96000 Hz and format one of {', '.join(FORMATS)} "
                f"(got rate={rate}, format={format!r})"
            )
        await run_in_threadpool(svc.store.visit, visit_id)  # NotFoundError for an unknown visit
    except Exception as e:
        await ws.send_text(json.dumps({"type": "error", "message": str(e)}, ensure_ascii=False))
        await ws.close(code=1008)
        return
    visit = LiveVisit(ws, visit_id, rate, FORMATS[format], target)
    try:
        await visit.run()
    except WebSocketDisconnect:
        pass
    finally:
        visit.close()
