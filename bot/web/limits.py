"""Bounded resources for the web channel: uploads waiting to be sent, message rates."""
from __future__ import annotations

import secrets
import time
from collections import OrderedDict, deque
from dataclasses import dataclass


@dataclass
class _Upload:
    session: str
    data: bytes
    created: float


class UploadStore:
    """Uploaded files kept in memory until their "photo" event, bounded in time and bytes."""

    def __init__(self, max_bytes: int = 64 * 1024 * 1024, ttl: float = 15 * 60):
        self.max_bytes = max_bytes
        self.ttl = ttl
        self._items: OrderedDict[str, _Upload] = OrderedDict()
        self._bytes = 0

    def put(self, session: str, data: bytes) -> str:
        self._expire()
        while self._items and self._bytes + len(data) > self.max_bytes:
            self._drop(next(iter(self._items)))
        upload_id = secrets.token_urlsafe(12)
        self._items[upload_id] = _Upload(session, data, time.monotonic())
        self._bytes += len(data)
        return upload_id

    def take(self, session: str, upload_id: str) -> bytes | None:
        """The file, once, and only for the session that uploaded it."""
        self._expire()
        item = self._items.get(upload_id)
        if item is None or item.session != session:
            return None
        self._drop(upload_id)
        return item.data

    def _drop(self, upload_id: str) -> None:
        item = self._items.pop(upload_id)
        self._bytes -= len(item.data)

    def _expire(self) -> None:
        limit = time.monotonic() - self.ttl
        while self._items and next(iter(self._items.values())).created < limit:
            self._drop(next(iter(self._items)))


class RateLimiter:
    """At most `per_minute` events per key over any 60-second window."""

    def __init__(self, per_minute: int, max_keys: int = 10_000):
        self.per_minute = per_minute
        self.max_keys = max_keys
        self._events: OrderedDict[str, deque[float]] = OrderedDict()

    def allow(self, key: str) -> bool:
        now = time.monotonic()
        events = self._events.pop(key, None) or deque()
        while events and events[0] <= now - 60:
            events.popleft()
        allowed = len(events) < self.per_minute
        if allowed:
            events.append(now)
        self._events[key] = events  # most recent last
        while len(self._events) > self.max_keys:
            self._events.popitem(last=False)
        return allowed
