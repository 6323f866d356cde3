"""Django's Redis cache backend, keeping one client per connection pool and clearing only its
own keys.

Django builds a ``redis.Redis`` for every cache operation, and redis-py fills a table of ~170
response callbacks in each: ~0.15 ms, four times the cost of the GET itself, and a list page
makes five or six (bench/desk.py, profiled). A client is thread-safe and cheap to keep.
"""

import re

from django.core.cache.backends import redis


class _RedisCacheClient(redis.RedisCacheClient):
    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        clients = self.__dict__.setdefault("_clients", {})
        client = clients.get(id(pool))
        if client is None:
            client = clients[id(pool)] = self._client(connection_pool=pool)
        return client


class RedisCache(redis.RedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = _RedisCacheClient

    def clear(self) -> bool:
        """Delete the keys under this cache's ``KEY_PREFIX`` only. Django's FLUSHDB would also
        wipe what shares the database: the Celery broker's queues, another prefix's cache."""
        client = self._cache.get_client(write=True)
        pattern = re.sub(r"([\\*?\[\]])", r"\\\1", self.key_prefix) + ":*"
        with client.pipeline(transaction=False) as pipeline:
            for key in client.scan_iter(match=pattern, count=1000):
                pipeline.unlink(key)
            pipeline.execute()
        return True
