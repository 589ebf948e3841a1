"""Redis through Sentinels: the locks' client (registers/redis_client.py), and the cache and the broker as
settings.py configures them from sentinel:// URLs. A throw-away server and a Sentinel watching it, no database."""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis
from django.conf import settings

from registers.redis_client import redis_client, sentinel_hosts

from .redis_servers import free_port, redis_server

ROOT = Path(__file__).resolve().parents[2]

# settings.py, as a process started with these URLs loads it: the cache and the broker go through the Sentinel.
THROUGH_SETTINGS = """
import json, sys
import django
django.setup()
from django.conf import settings
from django.core.cache import cache
from config.celery import app
cache.set("sentinel-probe", "through the sentinel", 60)
app.send_task("registers.tasks.memberships_sync", queue=sys.argv[1])
client = settings.CACHES["default"]["OPTIONS"]["CLIENT_CLASS"]
print(json.dumps({"client": client, "cached": cache.get("sentinel-probe")}))
"""


@pytest.fixture(scope="module")
def sentinel(tmp_path_factory):
    """Yield (master port, Sentinel port): a server and a Sentinel watching it under REDIS_SENTINEL_MASTER."""
    folder = tmp_path_factory.mktemp("sentinel")
    name = settings.REDIS_SENTINEL_MASTER
    with redis_server(folder) as (master, _), redis_server(folder, sentinel_for=(name, master)) as (port, _):
        asking = redis.Redis(port=port, socket_timeout=1, decode_responses=True)
        deadline = time.monotonic() + 10
        while asking.sentinel_master(name)["port"] != master:
            assert time.monotonic() < deadline, "the Sentinel does not name the master"
            time.sleep(0.05)
        yield master, port


def test_a_sentinel_url_names_hosts_database_and_password():
    url = "sentinel://:s%40lt@h1:26380/4;sentinel://h2/4"
    assert sentinel_hosts(url) == ([("h1", 26380), ("h2", 26379)], 4, None, "s@lt")
    assert sentinel_hosts("sentinel://h1;sentinel://h2")[1] == 0
    # kombu would take the broker's database from the first part alone.
    with pytest.raises(ValueError, match="same database"):
        sentinel_hosts("sentinel://h1:26379;sentinel://h2:26379/4")


def test_the_lock_client_reaches_the_master_through_the_sentinels(sentinel):
    master, port = sentinel
    # The first Sentinel is down: the client asks the next one.
    client = redis_client(f"sentinel://127.0.0.1:{free_port()}/3;sentinel://127.0.0.1:{port}/3")
    started = time.monotonic()
    client.set("lock-probe", "held")
    # At once, not after redis-py's retries of the Sentinel that is down.
    assert time.monotonic() - started < 1
    assert redis.Redis(port=master, db=3).get("lock-probe") == b"held"


def test_the_cache_and_the_broker_work_through_sentinel_urls(sentinel):
    master, port = sentinel
    env = {
        **os.environ,
        "CACHE_URL": f"sentinel://127.0.0.1:{port}/5",
        "CELERY_BROKER_URL": f"sentinel://127.0.0.1:{port}/6",
    }
    env.pop("REDIS_URL", None)
    done = subprocess.run(
        [sys.executable, "-c", THROUGH_SETTINGS, "sentinel-test-queue"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    answer = json.loads(done.stdout.strip().splitlines()[-1])
    assert answer == {"client": "django_redis.client.SentinelClient", "cached": "through the sentinel"}
    assert redis.Redis(port=master, db=5).keys("*sentinel-probe")
    assert redis.Redis(port=master, db=6).llen("sentinel-test-queue") == 1
