"""A bounded line for model work: one job runs at a time (2 cores cannot run two models well), at most
`waiting` more wait their turn, and anything beyond that is refused at once (HTTP 503 with Retry-After).

    job = queue.submit(work)              # raises QueueFull; `work(job)` runs in a worker thread
    async for piece in job.pieces(): ...  # what work() passed to job.emit(), as it comes
    result = await job.result()
    job.cancel()                          # the client left: stop waiting, or stop at the next piece

Each job runs in its own thread, so a job cancelled while still in line leaves at once and a running one
stops at its next `job.cancelled` check; the model is free again only when the work function has returned.
"""

from __future__ import annotations

import asyncio
import math
import threading
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from typing import Any


class QueueFull(Exception):
    """Every place in line is taken; `retry_after` is a fair guess in seconds of when one frees up."""

    def __init__(self, retry_after: int, running: int, waiting: int):
        super().__init__(f"the server is busy ({running} running, {waiting} waiting); retry in {retry_after} s")
        self.retry_after = retry_after


class Cancelled(Exception):
    """The job was cancelled (its client disconnected) before it produced a result."""


_END = object()


class Job:
    """One unit of model work, created by ModelQueue.submit and consumed from the event loop."""

    def __init__(self, queue: ModelQueue, work: Callable[[Job], Any], loop: asyncio.AbstractEventLoop):
        self.cancelled = threading.Event()
        self._queue = queue
        self._work = work
        self._loop = loop
        self._pieces: asyncio.Queue = asyncio.Queue()
        self._result: asyncio.Future = loop.create_future()
        self.started_at: float | None = None

    # called from the worker thread
    def emit(self, piece: Any) -> None:
        """Hand a piece of output (e.g. streamed text) to the consumer."""
        self._call(self._pieces.put_nowait, piece)

    def _finish(self, value: Any = None, error: BaseException | None = None) -> None:
        def settle() -> None:
            if not self._result.done():
                if error is not None:
                    self._result.set_exception(error)
                else:
                    self._result.set_result(value)
            self._pieces.put_nowait(_END)

        self._call(settle)

    def _call(self, fn: Callable, *args: Any) -> None:
        try:
            self._loop.call_soon_threadsafe(fn, *args)
        except RuntimeError:  # the event loop has closed (server shutting down): nobody is listening
            pass

    # called from the event loop
    def cancel(self) -> None:
        """Stop this job: it leaves the line, or its work sees `cancelled` set and stops."""
        self._queue._cancel(self)

    async def result(self) -> Any:
        """The work function's return value (or its exception; Cancelled if cancelled before it ran)."""
        return await self._result

    async def pieces(self) -> AsyncIterator[Any]:
        """What the work emitted, in order, until it returned; then its exception, if it raised."""
        while (piece := await self._pieces.get()) is not _END:
            yield piece
        if self._result.done() and self._result.exception() is not None:
            raise self._result.exception()

    @property
    def done(self) -> bool:
        return self._result.done()


class ModelQueue:
    """FIFO line in front of the model. `waiting` is how many jobs may wait while one runs."""

    def __init__(self, waiting: int = 4, *, typical_seconds: float = 10.0):
        if waiting < 0:
            raise ValueError(f"waiting must be 0 or more, not {waiting}")
        self.waiting_limit = waiting
        self._cond = threading.Condition()
        self._line: deque[Job] = deque()
        self._running: Job | None = None
        self._typical = typical_seconds  # moving average of a job's run time, for Retry-After
        self.completed = 0
        self.cancelled = 0  # jobs whose client left: in line, or while running
        self.refused = 0

    def submit(self, work: Callable[[Job], Any]) -> Job:
        """Admit `work` (call from the event loop) or raise QueueFull; it runs when the model is free."""
        job = Job(self, work, asyncio.get_running_loop())
        with self._cond:
            if len(self._line) + (self._running is not None) > self.waiting_limit:
                self.refused += 1
                ahead = len(self._line) + 1
                raise QueueFull(max(1, min(300, math.ceil(self._typical * ahead))), 1, len(self._line))
            self._line.append(job)
        threading.Thread(target=self._run, args=(job,), name="kogata-model-job", daemon=True).start()
        return job

    def _run(self, job: Job) -> None:
        with self._cond:
            while not job.cancelled.is_set() and (self._running is not None or self._line[0] is not job):
                self._cond.wait()
            self._line.remove(job)
            if job.cancelled.is_set():
                self.cancelled += 1
                self._cond.notify_all()
                job._finish(error=Cancelled("cancelled while waiting"))
                return
            self._running = job
        job.started_at = time.perf_counter()
        value, error = None, None
        try:
            value = job._work(job)
        except BaseException as e:  # handed to the consumer; the server keeps going
            error = e
        seconds = time.perf_counter() - job.started_at
        with self._cond:  # the model is free before the client hears the result
            self._running = None
            self._typical = 0.7 * self._typical + 0.3 * seconds
            self.completed += 1
            self.cancelled += job.cancelled.is_set()
            self._cond.notify_all()
        job._finish(value, error)

    def _cancel(self, job: Job) -> None:
        job.cancelled.set()
        with self._cond:
            self._cond.notify_all()

    def state(self) -> dict[str, Any]:
        """Running and waiting counts, for /health and the monitor page."""
        with self._cond:
            return {
                "running": int(self._running is not None),
                "waiting": len(self._line),
                "waiting_limit": self.waiting_limit,
                "completed": self.completed,
                "cancelled": self.cancelled,
                "refused": self.refused,
                "typical_seconds": round(self._typical, 2),
            }
