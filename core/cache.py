"""Django's Redis cache, with one Redis client per connection pool, failing fast while Redis
is unreachable.

Django's RedisCacheClient builds a new `redis.Redis` for every cache call; redis-py sets up
some 170 response callbacks in each, which measured as a tenth of the CPU of a tracking
lookup (bench/track.py). A client per pool keeps the same connections (redis.Redis is safe
to share between threads: each command takes a connection from the pool).

The cache holds only what the portal can do without for a while: rate limit counters, the
used proof-of-work challenges, the Celery heartbeat. Its callers let a request through when
it fails (appointments.protection, production.tracking). A Redis that refuses connections
fails at once; one that hangs (a frozen process, a host gone from the network) would cost
each call its socket timeout, several per request. So after a connection error or a
timeout, every call in this process fails at once with `CacheUnavailable` (a Redis
`ConnectionError`, which the callers already expect) for FAIL_FAST_SECONDS; the first call
after that tries Redis again.
"""

import functools
import logging
import time
from collections.abc import Callable

from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)

FAIL_FAST_SECONDS = 5.0
UNREACHABLE = (RedisConnectionError, RedisTimeoutError, OSError)

# Per process and per server: until when calls fail without trying (time.monotonic()).
_down_until: dict[tuple[str, ...], float] = {}


class CacheUnavailable(RedisConnectionError):
    """Redis failed moments ago: not tried again yet."""


def _fail_fast(method: Callable) -> Callable:
    @functools.wraps(method)
    def guarded(self: "FailFastRedisCache", *args, **kwargs):
        servers = tuple(self._servers)
        if time.monotonic() < _down_until.get(servers, 0.0):
            raise CacheUnavailable("Redis unreachable moments ago; not tried again yet")
        try:
            return method(self, *args, **kwargs)
        except UNREACHABLE:
            _down_until[servers] = time.monotonic() + FAIL_FAST_SECONDS
            logger.warning(
                "Redis unreachable: cache calls fail at once for %s s", FAIL_FAST_SECONDS
            )
            raise

    return guarded


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


class FailFastRedisCache(RedisCache):
    """RedisCache whose every call fails at once for a few seconds after Redis failed, with
    one Redis client per connection pool."""

    def __init__(self, server, params) -> None:
        super().__init__(server, params)
        self._class = SharedClientRedisCacheClient

    @_fail_fast
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

    @_fail_fast
    def hits_so_far(self, counters: list[tuple[str, int]]) -> list[int]:
        """The count of each fixed window (key, period in seconds) of count_hits, without
        counting a hit: a budget read before deciding whether to count (production.tracking
        counts only the lookups that fail)."""
        now = int(time.time())
        client = self._cache.get_client(write=True)  # the counts, as count_hits wrote them
        keys = [
            self.make_and_validate_key(f"hits:{key}:{now - now % period}")
            for key, period in counters
        ]
        return [int(value or 0) for value in client.mget(keys)]

    add = _fail_fast(RedisCache.add)
    get = _fail_fast(RedisCache.get)
    set = _fail_fast(RedisCache.set)
    touch = _fail_fast(RedisCache.touch)
    delete = _fail_fast(RedisCache.delete)
    get_many = _fail_fast(RedisCache.get_many)
    has_key = _fail_fast(RedisCache.has_key)
    incr = _fail_fast(RedisCache.incr)
    set_many = _fail_fast(RedisCache.set_many)
    delete_many = _fail_fast(RedisCache.delete_many)
    clear = _fail_fast(RedisCache.clear)
