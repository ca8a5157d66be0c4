"""Answers computed from the ledger, kept until the ledger changes.

A member reloads their statement, sixteen people read the same tally: the figures are
the same until something is committed, and `ledger.changes.ChangeWatch` says when that
happens at the cost of a pragma. Each `get` compares the watch's token first, so an
answer is never older than the last commit before the request; a commit drops every
answer kept (the cache does not guess which ones it touched). Only what the data layer
computes after its access check is kept (`web.data`): the cache never decides who sees what.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import TypeVar

from ledger.changes import ChangeWatch

T = TypeVar("T")
SIZE = 4096  # answers kept per process, the least recently used dropped first
MISSING = object()


class ReadCache:
    def __init__(self, watch: ChangeWatch, size: int = SIZE) -> None:
        self.watch = watch
        self.size = size
        self._lock = threading.Lock()
        self._token: object = None
        self._kept: OrderedDict[Hashable, object] = OrderedDict()

    def peek(self, key: Hashable) -> object:
        """The answer kept for `key`, or `MISSING`."""
        return self._kept_now(self.watch.token(), key)

    def get(self, key: Hashable, compute: Callable[[], T]) -> T:
        token = self.watch.token()
        found = self._kept_now(token, key)
        if found is not MISSING:
            return found  # type: ignore[return-value]
        value = compute()
        with self._lock:
            if self._token == token:  # not if the ledger moved meanwhile: the next request recomputes
                self._kept[key] = value
                if len(self._kept) > self.size:
                    self._kept.popitem(last=False)
        return value

    def _kept_now(self, token: object, key: Hashable) -> object:
        with self._lock:
            if token != self._token:
                self._kept.clear()
                self._token = token
                return MISSING
            if key not in self._kept:
                return MISSING
            self._kept.move_to_end(key)
            return self._kept[key]
