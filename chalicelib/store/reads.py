"""Reads other areas ask to ride along in one batch read, without the caller seeing their keys."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from .ops import Key

T = TypeVar("T")


@dataclass(frozen=True)
class Reads(Generic[T]):
    """The keys one area needs, and how it turns what was found into its own typed view."""

    keys: tuple[Key, ...]
    decode: Callable[[dict[Key, dict[str, Any]]], T]

    def of(self, found: dict[Key, dict[str, Any]]) -> T:
        return self.decode({k: found[k] for k in self.keys if k in found})
