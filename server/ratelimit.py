"""Rate limits on enrolment and sign-in (per IP and per account) and on sync
(per account).

Counts live in memory by default (one app server) or in Redis when
``HOMEWARD_REDIS_URL`` is set, so several app servers share them.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from limits import RateLimitItem, parse
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter

from server.errors import TooManyRequests

SIGNIN_PER_IP = parse("30/minute")
SIGNIN_PER_ACCOUNT = parse("10/minute")
ENROL_PER_IP = parse("10/minute")
# A phone back online drains its outbox in batches of 20 with a pull after
# each: 1,000 entries are 100 requests. Twice that in a minute is a loop.
# Counted per sign-in session (one phone), so a worker's other phones, each
# draining its own outbox, are not refused for it; the account as a whole
# has room for five phones doing so at once (docs/sync.md, "Rate limits").
SYNC_PER_SESSION = parse("200/minute")
SYNC_PER_ACCOUNT = parse("1000/minute")


@dataclass
class RateLimiter:
    storage: Storage

    @classmethod
    def from_url(cls, redis_url: str) -> RateLimiter:
        if redis_url:
            uri = redis_url.replace("redis://", "async+redis://", 1)
            return cls(RedisStorage(uri, implementation="redispy", key_prefix="homeward"))
        return cls(MemoryStorage())

    async def hit(self, item: RateLimitItem, *keys: str) -> None:
        """Count one attempt; raise TooManyRequests (with Retry-After) past the limit."""
        limiter = MovingWindowRateLimiter(self.storage)
        if not await limiter.hit(item, *keys):
            stats = await limiter.get_window_stats(item, *keys)
            retry_after = max(1, math.ceil(stats.reset_time - time.time()))
            raise TooManyRequests(retry_after)
