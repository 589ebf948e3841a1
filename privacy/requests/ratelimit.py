"""Fixed-window counters in the Django cache (Redis in production) for the public form.

A counter that cannot be reached (cache down) lets the request through: a
real person's request must not be lost because of the cache, and the form's
other defences (e-mail confirmation, duplicate folding) still hold. The cache
is down either when it raises or, with django-redis's IGNORE_EXCEPTIONS (the
production setting), when it answers None.
"""

import hashlib
import logging
import time

from django.conf import settings
from django.core.cache import cache

logger = logging.getLogger("privacy.ratelimit")  # the name operators filter on

# (requests, seconds). Per address it allows a shared office connection a
# day's worth of real requests; per e-mail a person files a few requests.
DEFAULT_LIMITS = {"ip": (20, 3600), "email": (5, 3600)}


def limits() -> dict[str, tuple[int, int]]:
    return {**DEFAULT_LIMITS, **getattr(settings, "PRIVACY_RATE_LIMITS", {})}


def rate_limit_exceeded(*, scope: str, value: str) -> bool:
    """Count one attempt for `value` in `scope` and tell whether the limit is now exceeded."""
    limit, window = limits()[scope]
    digest = hashlib.sha256(f"{scope}:{value.casefold()}".encode()).hexdigest()[:32]
    key = f"privacy:rate:{scope}:{digest}:{int(time.time() // window)}"
    try:
        # None: down, and not asked again (each try may wait for the connect timeout).
        count = None if cache.add(key, 0, timeout=window + 60) is None else cache.incr(key)
    except ValueError:
        # The key expired between add and incr.
        cache.set(key, 1, timeout=window + 60)
        count = 1
    except Exception:
        count = None
    if count is None:
        logger.warning("Rate-limit counter unavailable; letting the request through.")
        return False
    return count > limit
