"""Django's Redis cache, with one Redis client per connection pool instead of one per command.

Django's RedisCacheClient builds a new `redis.Redis` for every cache call; redis-py sets up
some 170 response callbacks in each, which measured as a tenth of the CPU of a tracking
lookup (two rate limit counts, bench/track.py). The clients share their pool either way: a
client per pool keeps the same connections, and redis.Redis is safe to share between
threads (each command takes a connection from the pool)."""

import time

from django.core.cache.backends.redis import RedisCache, RedisCacheClient


class SharedClientRedisCacheClient(RedisCacheClient):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._clients = {}

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)
        return client


class SharedClientRedisCache(RedisCache):
    def __init__(self, server, params) -> None:
        super().__init__(server, params)
        self._class = SharedClientRedisCacheClient

    def count_hits(self, counters: list[tuple[str, int]]) -> list[int]:
        """Count one hit in each fixed window (key, period in seconds) and return each
        window's count so far, in one round trip to Redis (a rate limit of several budgets,
        production.tracking). Raises redis' errors when Redis cannot be reached."""
        now = int(time.time())
        client = self._cache.get_client(write=True)
        pipe = client.pipeline(transaction=False)
        for key, period in counters:
            window_key = self.make_and_validate_key(f"hits:{key}:{now - now % period}")
            pipe.incr(window_key)
            pipe.expire(window_key, period + 1)
        replies = pipe.execute()
        return [int(count) for count in replies[::2]]
