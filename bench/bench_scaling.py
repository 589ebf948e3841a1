#!/usr/bin/env python
"""Scaling on one machine (issue 23): two web nodes behind haproxy against one, for the staff customer list and the
public form.

It starts the cluster of bench/multinode.py without its faults (bench/cluster.py: a PostgreSQL primary, pgbouncer,
Redis, two gunicorn web nodes of 2 sync workers each, haproxy; no replica, no Celery), migrates and loads the demo
data, signs 32 staff users' sessions in and measures, at 8 and 32 concurrent clients:

- **customer list**: a signed-in staff member's GET of the customer list (each client its own session);
- **public form**: one submission, the form's GET (for its CSRF token) and its POST with a new e-mail address, each
  from a loopback address of its own (127.x.y.z), so that the per-address rate limit applies as to many people;

each against three set-ups: one node directly (no proxy), haproxy with one node (the other disabled through
haproxy's admin socket) and haproxy with both nodes. A cell is 2 s of warm-up, then `--duration` seconds (8) of
counting: requests (submissions) completed per second, p50 and p95 of the completed ones, and what did not answer
200 (list) or 302 to the form's "sent" page (form). The scaling factor is two nodes through haproxy over one node
through haproxy. Everything runs on this machine's cores: the client (Python threads, a new connection per request,
as a browser behind a NAT would look), haproxy, both nodes, pgbouncer and PostgreSQL share them.

Usage: DATABASE_URL=postgres://postgres@127.0.0.1:5432/rekisteri_scaling .venv/bin/python bench/bench_scaling.py
    [--duration 8] [--clients 8 32]
Only DATABASE_URL's base name is used; the servers are the run's own, on free loopback ports, removed at the end.
"""

import argparse
import concurrent.futures
import html
import http.client
import os
import re
import statistics
import sys
import threading
import time
import urllib.parse
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from cluster import (
    FORM_SENT,
    ROOT,
    STAFF,
    STAFF_LIST,
    STAFF_REGISTER,
    Browser,
    Cluster,
    next_address,
    submission,
    wait_for,
)

BASE_NAME = urllib.parse.urlparse(os.environ.get("DATABASE_URL", "postgres:///rekisteri_scaling")).path.strip("/")
WARM_UP = 2.0
SETUPS = ("one node, direct", "haproxy, one node", "haproxy, two nodes")


def request(port: int, method: str, path: str, cookie: str = "", body: str | None = None, source: str = "127.0.0.1"):
    """One request on a new connection: (status, headers in lower case, body)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30, source_address=(source, 0))
    headers = {"Host": "127.0.0.1", "Referer": f"http://127.0.0.1:{port}{path}"}
    if cookie:
        headers["Cookie"] = cookie
    if body is not None:
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    try:
        connection.request(method, path, body=body, headers=headers)
        answer = connection.getresponse()
        text = answer.read().decode(errors="replace")
        return answer.status, {name.lower(): value for name, value in answer.getheaders()}, text
    except (OSError, http.client.HTTPException):
        return 0, {}, ""
    finally:
        connection.close()


def session_cookie(browser: Browser) -> str:
    return "; ".join(f"{cookie.name}={cookie.value}" for cookie in browser.jar)


def list_view(port: int, cookie: str) -> bool:
    status, _headers, _text = request(port, "GET", STAFF_LIST, cookie)
    return status == 200


def form_submission(port: int, path: str, number: int, tag: str) -> bool:
    source = next_address()
    status, headers, text = request(port, "GET", path, source=source)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', text)
    cookie = re.search(r"csrftoken=([^;]+)", headers.get("set-cookie", ""))
    if status != 200 or not token or not cookie:
        return False
    data = {
        **submission(f"scale.{tag}.{number}@example.fi", STAFF_REGISTER),
        "csrfmiddlewaretoken": html.unescape(token[1]),
    }
    body = urllib.parse.urlencode(data, doseq=True)
    status, headers, _text = request(port, "POST", path, f"csrftoken={cookie[1]}", body, source)
    return status == 302 and headers.get("location", "").endswith(FORM_SENT)


def measure(clients: int, duration: float, action) -> dict:
    """Run `clients` threads doing `action(client, n)` for WARM_UP + duration seconds; count what completed in the
    counted part."""
    started = time.monotonic()
    counted_from, until = started + WARM_UP, started + WARM_UP + duration
    cpu = [0.0, 0.0]
    done: list[tuple[float, float, bool]] = []  # (start, elapsed, ok)
    lock = threading.Lock()
    numbers = iter(range(10**9))

    def client(index: int) -> None:
        if index == 0:
            threading.Timer(WARM_UP, lambda: cpu.__setitem__(0, time.process_time())).start()
            threading.Timer(WARM_UP + duration, lambda: cpu.__setitem__(1, time.process_time())).start()
        while (now := time.monotonic()) < until:
            with lock:
                n = next(numbers)
            ok = action(index, n)
            finished = time.monotonic()
            if now >= counted_from and finished <= until:
                done.append((now, finished - now, ok))

    with concurrent.futures.ThreadPoolExecutor(clients) as pool:
        list(pool.map(client, range(clients)))
    latencies = sorted(elapsed for _start, elapsed, ok in done if ok)
    errors = sum(1 for _start, _elapsed, ok in done if not ok)
    p95 = statistics.quantiles(latencies, n=20)[-1] if len(latencies) >= 20 else (max(latencies, default=0))
    return {
        "rate": len(latencies) / duration,
        "p50": statistics.median(latencies) * 1000 if latencies else float("nan"),
        "p95": p95 * 1000,
        "errors": errors,
        "count": len(latencies),
        # The client's own share of the cores (CPU seconds per second) while it counted: what it took from the servers.
        "client_cpu": (cpu[1] - cpu[0]) / duration,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description="Two web nodes behind haproxy against one, on this machine.")
    parser.add_argument("--duration", type=float, default=8.0, help="seconds counted per cell (after 2 s of warm-up)")
    parser.add_argument("--clients", type=int, nargs="+", default=[8, 32], help="concurrent clients (8 32)")
    options = parser.parse_args()
    started = time.monotonic()
    cluster = Cluster("scaling", BASE_NAME or "rekisteri_scaling")
    print(f"Scaling bench {cluster.suffix}: database {cluster.db}, files in {cluster.workdir}", flush=True)
    results: dict[tuple[str, int, str], dict] = {}
    failed = False
    try:
        cluster.postgres_start(replica=False)
        cluster.redis_start()
        cluster.database_build()
        os.environ.update(cluster.script_env)
        sys.path.insert(0, str(ROOT))
        import django

        django.setup()
        from cluster import public_form

        form_path = public_form()
        cluster.pgbouncer_start()
        for n in (1, 2):
            cluster.web_start(n)
        for n in (1, 2):
            if not wait_for(lambda n=n: cluster.web_ready(n), 60, 0.3):
                raise RuntimeError(f"web node {n} did not answer; see {cluster.log(f'web{n}')}")
        if Browser(f"http://127.0.0.1:{cluster.port['web1']}").request("/healthz").status != 200:
            cluster.healthz = "/accounts/login/"
        cluster.haproxy_start()
        if not wait_for(lambda: all(s["status"] == "UP" for s in cluster.servers().values()), 20, 0.2):
            raise RuntimeError(f"haproxy did not see both nodes up: {cluster.servers()}")
        with concurrent.futures.ThreadPoolExecutor(4) as pool:
            sessions = list(pool.map(lambda _i: Browser(cluster.base).sign_in(*STAFF), range(max(options.clients))))
        cookies = [session_cookie(browser) for browser in sessions]
        print(f"{time.monotonic() - started:5.0f} s  cluster up, {len(cookies)} staff sessions", flush=True)
        tag = cluster.suffix
        # Every worker of both nodes serves a few of each before anything is counted (templates, first queries).
        measure(8, 3.0, lambda client, _n: list_view(cluster.port["haproxy"], cookies[client]))
        measure(8, 3.0, lambda _client, n: form_submission(cluster.port["haproxy"], form_path, n, tag + "w"))
        pages = {
            "customer list": lambda port: lambda client, _n: list_view(port, cookies[client]),
            "public form": lambda port: lambda _client, n: form_submission(port, form_path, n, tag),
        }
        for page, make in pages.items():
            for clients in options.clients:
                for setup in SETUPS:
                    if setup == "one node, direct":
                        port = cluster.port["web1"]
                    else:
                        port = cluster.port["haproxy"]
                        state = "disable" if setup == "haproxy, one node" else "enable"
                        cluster.haproxy(f"{state} server nodes/web2")
                        want = "MAINT" if state == "disable" else "UP"
                        wait_for(lambda want=want: cluster.server_status("web2").startswith(want), 10, 0.1)
                    results[(page, clients, setup)] = measure(clients, options.duration, make(port))
                    r = results[(page, clients, setup)]
                    print(
                        f"{time.monotonic() - started:5.0f} s  {page}, {clients} clients, {setup}: {r['rate']:.0f}/s, "
                        f"p95 {r['p95']:.0f} ms, {r['errors']} errors",
                        flush=True,
                    )
    except Exception as error:
        failed = True
        print(f"The bench failed: {type(error).__name__}: {error}", flush=True)
    finally:
        from django.conf import settings

        if settings.configured:
            from django.db import connections

            connections.close_all()
        cluster.close(keep=failed)
    load = os.getloadavg()
    elapsed = time.monotonic() - started
    print(f"\nScaling bench finished in {elapsed:.0f} s (load average {load[0]:.1f}, {os.cpu_count()} cores)\n")
    print("| page | clients | set-up | per second | p50 ms | p95 ms | errors | client CPU | vs one node via haproxy |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for (page, clients, setup), r in results.items():
        one = results.get((page, clients, "haproxy, one node"))
        factor = f"{r['rate'] / one['rate']:.2f}x" if one and one["rate"] else ""
        print(
            f"| {page} | {clients} | {setup} | {r['rate']:.0f} | {r['p50']:.0f} | {r['p95']:.0f} | {r['errors']} | "
            f"{r['client_cpu']:.0%} | {factor} |"
        )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
