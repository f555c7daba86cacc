"""The list of benchmarks. A module `bench/bench_<name>.py` registers its functions here with
`@benchmark(...)`; the runner imports every such module and runs what it registered, in `order`."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable


@dataclass(frozen=True)
class Target:
    """One figure with the bar it must clear: `value <= limit` (or `>=` when `at_least`)."""
    name: str
    value: float
    limit: float
    at_least: bool = False

    @property
    def holds(self) -> bool:
        return self.value >= self.limit if self.at_least else self.value <= self.limit

    def as_dict(self) -> dict[str, Any]:
        return {"value": self.value, "target": (">= " if self.at_least else "<= ") + f"{self.limit:g}",
                "holds": self.holds}


@dataclass(frozen=True)
class Result:
    figures: dict[str, Any]
    targets: tuple[Target, ...] = ()


@dataclass(frozen=True)
class Benchmark:
    name: str
    fn: Callable[..., Result]
    order: int
    needs_db: bool


BENCHMARKS: list[Benchmark] = []


def benchmark(name: str, *, order: int = 50, needs_db: bool = True):
    """Register `fn(ctx) -> Result`; `ctx` is a bench.harness.Context (its `endpoint` is None and no
    DynamoDB Local is started for it when `needs_db` is False)."""
    def register(fn: Callable[..., Result]) -> Callable[..., Result]:
        if any(b.name == name for b in BENCHMARKS):
            raise ValueError(f"two benchmarks are named {name!r}")
        BENCHMARKS.append(Benchmark(name, fn, order, needs_db))
        return fn
    return register
