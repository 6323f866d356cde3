import pytest
from django.core.cache import caches

from sla_portal.cache import RedisCache

cache = caches["default"]
redis_only = pytest.mark.skipif(not isinstance(cache, RedisCache), reason="Redis only with REDIS_URL")


@redis_only
def test_clearing_the_cache_leaves_what_else_shares_the_redis_database():
    client = cache._cache.get_client(write=True)
    broker_key, other_run_key = "test-broker-queue", f"{cache.key_prefix}x:1:row"  # no prefix; a longer one
    client.set(broker_key, "a queued task")
    client.set(other_run_key, "another run's row")
    cache.set("row", "ours")
    try:
        cache.clear()
        assert cache.get("row") is None
        assert client.get(broker_key) == b"a queued task"
        assert client.get(other_run_key) == b"another run's row"
    finally:
        client.delete(broker_key, other_run_key)
