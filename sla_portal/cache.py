"""Django's Redis cache backend, keeping one client per connection pool.

Django builds a ``redis.Redis`` for every cache operation, and redis-py fills a table of ~170
response callbacks in each: ~0.15 ms, four times the cost of the GET itself, and a list page
makes five or six (bench/desk.py, profiled). A client is thread-safe and cheap to keep.
"""

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
