"""Django's Redis cache backend, keeping one client per connection pool, clearing only its own
keys, and answering a cache miss when Redis cannot be reached.

Django builds a ``redis.Redis`` for every cache operation, and redis-py fills a table of ~170
response callbacks in each: ~0.15 ms, four times the cost of the GET itself, and a list page
makes five or six (bench/desk.py, profiled). A client is thread-safe and cheap to keep.

A Redis that is down must not take the site with it: sessions fall back to the database
(``cached_db``), list pages render what they would have cached, and throttles let requests
through. So every Redis error is a miss: a read returns its default, a write is skipped (an
``add`` reports it stored: locks and throttles fail open), ``incr`` finds no key. The first error is
logged, not every call; afterwards Redis is asked again at most once per ``RETRY_SECONDS`` per
process, so a dead (or hung: short socket timeouts) Redis costs a request nothing.

A write skipped while Redis was only unreachable would leave the old value there for when it
comes back (a logged-out session, a stale saved-views list): the keys are remembered and
deleted on the first successful call; if too many to remember, this prefix is cleared.
"""

import logging
import re
import threading
import time
from collections.abc import Callable, Iterable
from functools import partial
from typing import Any

from django.core.cache.backends import redis
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

# Seconds between attempts while Redis is failing, per process.
RETRY_SECONDS = 1.0
# Keys written during an outage that are deleted when Redis answers again.
MAX_PENDING_DELETES = 10_000
# Local Redis answers in well under a millisecond; these bound what a hung one costs.
DEFAULT_OPTIONS = {"socket_connect_timeout": 0.5, "socket_timeout": 0.5}


class _Health:
    """Whether a Redis (by location) answered, shared by the threads of a process."""

    def __init__(self, location: str):
        self.location = location
        self.lock = threading.RLock()
        self.down_since: float | None = None
        self.next_try = 0.0
        self.pending: set[str] = set()
        self.overflow = False

    def skip(self) -> bool:
        return self.down_since is not None and time.monotonic() < self.next_try

    def failed(self, exc: Exception | None, keys: Iterable[str] = ()) -> None:
        """A call failed with ``exc`` (None: skipped while down) after writing ``keys``."""
        now = time.monotonic()
        with self.lock:
            first = self.down_since is None
            if first:
                self.down_since = now
            if exc is not None:
                self.next_try = now + RETRY_SECONDS
            for key in keys:
                if len(self.pending) >= MAX_PENDING_DELETES:
                    self.overflow = True
                    break
                self.pending.add(key)
        if first:
            logger.warning("Redis cache %s unreachable, serving misses: %r", self.location, exc)


_health: dict[str, _Health] = {}
_health_lock = threading.Lock()


def _health_of(location: str) -> _Health:
    with _health_lock:
        return _health.setdefault(location, _Health(location))


class _RedisCacheClient(redis.RedisCacheClient):
    def __init__(self, servers, *, clear_pattern: str, **options):
        super().__init__(servers, **options)
        self._clear_pattern = clear_pattern
        self._health = _health_of(",".join(servers))

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        clients = self.__dict__.setdefault("_clients", {})
        client = clients.get(id(pool))
        if client is None:
            client = clients[id(pool)] = self._client(connection_pool=pool)
        return client

    def _guard(self, call: Callable[[], Any], miss: Any, keys: Iterable[str] = ()) -> Any:
        """``call()``, or ``miss`` (and the written ``keys`` remembered) if Redis fails."""
        health = self._health
        if health.down_since is not None and (health.skip() or not self._recover()):
            health.failed(None, keys)
            return miss
        try:
            return call()
        except RedisError as exc:
            health.failed(exc, keys)
            return miss

    def _recover(self) -> bool:
        """Redis was failing: delete what was written meanwhile before anything is read again
        (other threads wait on the lock); False if it still fails."""
        health = self._health
        with health.lock:
            if health.down_since is None:
                return True
            if health.skip():  # another thread has just failed
                return False
            pending, overflow = list(health.pending), health.overflow
            try:
                if overflow:
                    self.clear_prefix()
                client = self.get_client(write=True)
                for start in range(0, len(pending), 1000):
                    client.unlink(*pending[start : start + 1000])
            except RedisError as exc:
                health.failed(exc)
                return False
            seconds = time.monotonic() - health.down_since
            health.pending, health.overflow, health.down_since = set(), False, None
        logger.warning(
            "Redis cache %s answers again after %.1f s; %s written meanwhile deleted",
            health.location,
            seconds,
            "every key" if overflow else f"{len(pending)} key(s)",
        )
        return True

    def clear_prefix(self) -> None:
        client = self.get_client(write=True)
        with client.pipeline(transaction=False) as pipeline:
            for key in client.scan_iter(match=self._clear_pattern, count=1000):
                pipeline.unlink(key)
            pipeline.execute()

    # Reads: a miss.
    def get(self, key, default):
        return self._guard(partial(super().get, key, default), default)

    def get_many(self, keys):
        return self._guard(partial(super().get_many, keys), {})

    def has_key(self, key):
        return self._guard(partial(super().has_key, key), False)

    def incr(self, key, delta):
        missing = object()
        value = self._guard(partial(super().incr, key, delta), missing, [key])
        if value is missing:
            raise ValueError(f"Key '{key}' not found.")
        return value

    # Writes: skipped, and the keys deleted when Redis is back.
    def add(self, key, value, timeout):
        # Granted: allauth takes its rate limits' lock with add() (refused, every login would
        # wait a second and answer 429); a used TOTP code is then not refused a second time
        # until Redis answers again (it is remembered for 30 s only anyway).
        return self._guard(partial(super().add, key, value, timeout), True, [key])

    def set(self, key, value, timeout):
        return self._guard(partial(super().set, key, value, timeout), None, [key])

    def set_many(self, data, timeout):
        return self._guard(partial(super().set_many, data, timeout), None, list(data))

    def touch(self, key, timeout):
        return self._guard(partial(super().touch, key, timeout), False)

    def delete(self, key):
        return self._guard(partial(super().delete, key), False, [key])

    def delete_many(self, keys):
        keys = list(keys)
        return self._guard(partial(super().delete_many, keys), None, keys)

    def clear(self):
        return self._guard(lambda: self.clear_prefix() or True, False)


class RedisCache(redis.RedisCache):
    def __init__(self, server, params):
        params = {**params, "OPTIONS": {**DEFAULT_OPTIONS, **params.get("OPTIONS", {})}}
        super().__init__(server, params)
        pattern = re.sub(r"([\\*?\[\]])", r"\\\1", self.key_prefix) + ":*"

        def client(servers, **options):
            return _RedisCacheClient(servers, clear_pattern=pattern, **options)

        self._class = client

    def clear(self) -> bool:
        """Delete the keys under this cache's ``KEY_PREFIX`` only. Django's FLUSHDB would also
        wipe what shares the database: the Celery broker's queues, another prefix's cache."""
        return self._cache.clear()
