"""Modelled time: a discrete-event simulation in which each request is a lightweight process.

The requests execute for real (the app's own code, against a real table implementation), but every
wait - a DynamoDB call's latency, a transaction's hold on its items, a retry's backoff - is a
`sleep` in modelled time: the process is parked and the simulation runs whatever is due next, in
time order. So 3,000 orders a second can be modelled on 2 cores, deterministically for a seed, and
the order in which concurrent requests meet each other is the order their modelled times say.

Processes are greenlets (the `greenlet` library: the coroutine switch that gevent, SQLAlchemy and
Playwright use), so code written for threads - the app, botocore, the store's Retry - runs inside
them unchanged. Exactly one runs at a time. State that a real Lambda keeps per process but the app
keeps per module (Chalice's `app.current_request`) is saved and restored around every switch
through `slots`."""
from __future__ import annotations

import heapq
import itertools
import math
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Callable

from greenlet import getcurrent, greenlet

_UNSET = object()


@dataclass(eq=False)
class Process:
    """One modelled request (or any other activity) with the times it ran."""
    fn: Callable[[], Any]
    tag: str = ""
    data: dict[str, Any] = field(default_factory=dict)
    started_at: float = math.nan
    finished_at: float = math.nan
    result: Any = None
    error: BaseException | None = None
    _glet: Any = None
    _saved: dict[int, Any] = field(default_factory=dict)

    @property
    def done(self) -> bool:
        return not math.isnan(self.finished_at)

    @property
    def elapsed(self) -> float:
        return self.finished_at - self.started_at


class Simulation:
    """A virtual clock and the processes it runs. `now` is seconds since the start; `datetime()`
    is the same instant as a UTC datetime from `epoch`."""

    def __init__(self, seed: int = 0, epoch: datetime = datetime(2026, 11, 11, tzinfo=timezone.utc)):
        self.now = 0.0
        self.epoch = epoch
        self.rng = random.Random(seed)
        self.current: Process | None = None
        self.slots: list[tuple[Any, str]] = []
        self._queue: list[tuple[float, int, Process]] = []
        self._seq = itertools.count()
        self._hub: Any = None
        self.processes_run = 0

    def datetime(self) -> datetime:
        return self.epoch + timedelta(seconds=self.now)

    def start(self, fn: Callable[[], Any], at: float | None = None, tag: str = "", **data: Any) -> Process:
        """A new process that begins at modelled time `at` (now if None)."""
        proc = Process(fn, tag, data)
        when = self.now if at is None else at
        if when < self.now:
            raise ValueError(f"cannot start a process in the past ({when} < {self.now})")
        heapq.heappush(self._queue, (when, next(self._seq), proc))
        return proc

    def sleep(self, seconds: float) -> None:
        """Park the calling process for `seconds` of modelled time."""
        proc = self.current
        if proc is None or getcurrent() is not proc._glet:
            raise RuntimeError("sleep() in modelled time is only possible inside a simulation process")
        if seconds < 0:
            raise ValueError("negative sleep")
        heapq.heappush(self._queue, (self.now + seconds, next(self._seq), proc))
        self._hub.switch()

    def run(self, until: float | None = None) -> None:
        """Run every event due up to `until` (all of them if None), in modelled-time order; ties in
        the order they were scheduled."""
        self._hub = getcurrent()
        while self._queue:
            when, _, proc = self._queue[0]
            if until is not None and when > until:
                break
            heapq.heappop(self._queue)
            self.now = when
            self._switch_to(proc)
            if proc.error is not None:
                raise proc.error
        if until is not None and self.now < until:
            self.now = until

    def _switch_to(self, proc: Process) -> None:
        for i, (obj, attr) in enumerate(self.slots):
            value = proc._saved.get(i, _UNSET)
            if value is not _UNSET:
                setattr(obj, attr, value)
        self.current = proc
        try:
            if proc._glet is None:
                proc.started_at = self.now
                proc._glet = greenlet(lambda: self._body(proc), parent=self._hub)
                self.processes_run += 1
            proc._glet.switch()
        finally:
            self.current = None
            for i, (obj, attr) in enumerate(self.slots):
                proc._saved[i] = getattr(obj, attr, None)

    def _body(self, proc: Process) -> None:
        try:
            proc.result = proc.fn()
        except BaseException as e:  # surfaced by run(): a process must not die silently
            proc.error = e
        finally:
            proc.finished_at = self.now

    @property
    def pending(self) -> int:
        return len(self._queue)


@dataclass(frozen=True)
class Duration:
    """A modelled duration: log-normal around `mean` seconds with coefficient of variation `cv`
    (0 gives exactly `mean`). Log-normal because service latencies are skewed: never below zero,
    with a tail."""
    mean: float
    cv: float = 0.3

    def sample(self, rng: random.Random) -> float:
        if self.cv <= 0:
            return self.mean
        sigma = math.sqrt(math.log(1 + self.cv ** 2))
        return rng.lognormvariate(math.log(self.mean) - sigma ** 2 / 2, sigma)
