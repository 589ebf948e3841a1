"""Throughput through gunicorn on this machine (issue 14): requests/s and p95 under wrk, per worker model.

    .venv/bin/python bench/bench_load.py                              # sync and gthread, 2 and 4 workers
    .venv/bin/python bench/bench_load.py --models sync --workers 2    # one configuration
    .venv/bin/python bench/bench_load.py --size 10000 --duration 5

It uses the database bench_pages.py fills (rekisteri_bench_<size>, created and filled here when missing), starts
gunicorn on a free loopback port for each worker model and count, signs a staff user of the benchmark register in
(a session made by a Django snippet, as a sign-in would) and runs wrk against the customer list (signed in) and the
public request form (GET) at 1, 8 and 32 connections. Before each configuration it serves the bare 50-row list
of bench_pages.py (no middleware, `bare_wsgi.py`) through the same gunicorn settings: the requests per second the
hardware gives a page that does nothing but read and print 50 customers. The client runs on the same cores as the
server, as the issue's figures do. DEBUG is off, connections persist (CONN_MAX_AGE), Redis is not used
(local-memory cache). It stops only the gunicorn process groups it started.
"""

import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_pages

ROOT = bench_pages.ROOT
THREADS = 4  # Threads per gthread worker.
BARE_LIST = "bare 50-row list (calibration)"
# wrk reports p50/75/90/99 with --latency; this script adds p95 and counts the answers that were not 200.
LUA = """
done = function(summary, latency, requests)
  io.write(string.format("BENCH p50=%.3f p95=%.3f p99=%.3f non2xx=%d errors=%d\\n",
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000,
    summary.errors.status, summary.errors.connect + summary.errors.read + summary.errors.write
      + summary.errors.timeout))
end
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    print("Installing wrk (Debian package)...", flush=True)
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    subprocess.run([*sudo, "apt-get", "install", "-y", "-q", "wrk"], check=True)
    return shutil.which("wrk") or "wrk"


def env_for(size: int) -> dict[str, str]:
    env = bench_pages.child_env(bench_pages.database_url(size))
    env["CONN_MAX_AGE"] = "600"
    env["TRUSTED_PROXY_COUNT"] = "0"
    env["DJANGO_SETTINGS_MODULE"] = "config.settings"
    return env


def sign_in(size: int) -> dict:
    """Return the staff session cookie and the URLs to load, made by a Django snippet in the bench database."""
    try:
        output = subprocess.run(
            [sys.executable, __file__, "--sign-in"],
            cwd=ROOT,
            env=env_for(size),
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    except subprocess.CalledProcessError as error:
        print(error.stderr, file=sys.stderr)
        raise
    return json.loads(output.strip().splitlines()[-1])


def child_sign_in() -> dict:
    bench_pages.setup_django()
    from django.conf import settings
    from django.test import Client
    from django.urls import reverse

    from registers.models import Register, Role

    register = Register.objects.get(slug=bench_pages.REGISTER)
    user = bench_pages.user_with_role(bench_pages.STAFF, Role.STAFF, [register])
    client = Client()
    client.force_login(user)  # The session a sign-in makes, stored in the database the workers read.
    return {
        "cookie": f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}",
        "list": reverse("crm:customer-list", kwargs={"register": register.slug}),
        "form": reverse("privacy:request-form", kwargs={"organisation": register.organisation.code}),
    }


def start_gunicorn(
    size: int, model: str, workers: int, log: Path, app: str = "config.wsgi", ready: str = "/accounts/login/"
) -> tuple[subprocess.Popen, int]:
    port = free_port()
    command = [str(ROOT / ".venv/bin/gunicorn"), app, "-b", f"127.0.0.1:{port}", "-w", str(workers)]
    command += ["--pythonpath", str(ROOT / "bench")]
    if model == "gthread":
        command += ["-k", "gthread", "--threads", str(THREADS)]
    command += ["--log-level", "warning"]  # No access log: writing one per request would be measured too.
    with log.open("ab") as output:
        process = subprocess.Popen(
            command, cwd=ROOT, env=env_for(size), stdout=output, stderr=subprocess.STDOUT, start_new_session=True
        )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{ready}", timeout=5):  # nosec B310
                return process, port
        except OSError:
            if process.poll() is not None:
                break
            time.sleep(0.3)
    stop(process)
    raise RuntimeError(f"gunicorn did not answer; see {log}")


def stop(process: subprocess.Popen) -> None:
    # Only the process group this script started (start_new_session).
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def warm(port: int, path: str, cookie: str, count: int) -> None:
    for _ in range(count):
        request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers={"Cookie": cookie})
        with urllib.request.urlopen(request, timeout=60) as response:  # nosec B310: loopback only
            assert response.status == 200, (path, response.status)


def run_wrk(wrk: str, script: Path, port: int, path: str, cookie: str, connections: int, duration: int) -> dict:
    command = [
        wrk,
        f"-t{min(connections, 2)}",
        f"-c{connections}",
        f"-d{duration}s",
        "--timeout",
        "30s",
        "-s",
        str(script),
        "-H",
        f"Cookie: {cookie}",
        f"http://127.0.0.1:{port}{path}",
    ]
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    figures = dict(re.findall(r"(\w+)=([\d.]+)", re.search(r"BENCH (.*)", output).group(1)))
    return {
        "rps": rate,
        "p50": float(figures["p50"]),
        "p95": float(figures["p95"]),
        "p99": float(figures["p99"]),
        "non2xx": int(figures["non2xx"]),
        "errors": int(figures["errors"]),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=100_000, help="customers of the bench database")
    parser.add_argument("--models", nargs="+", default=["sync", "gthread"], choices=["sync", "gthread"])
    parser.add_argument("--workers", type=int, nargs="+", default=[2, 4])
    parser.add_argument("--connections", type=int, nargs="+", default=[1, 8, 32])
    parser.add_argument("--duration", type=int, default=10, help="seconds of each wrk run")
    parser.add_argument("--sign-in", action="store_true", help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.sign_in:
        print(json.dumps(child_sign_in()))
        return
    wrk = ensure_wrk()
    bench_pages.prepare(options.size, fresh=False, log_entries=None)
    target = sign_in(options.size)
    workdir = Path(tempfile.mkdtemp(prefix="bench-load-"))
    script = workdir / "p95.lua"
    script.write_text(LUA)
    pages = {"customer list (staff)": target["list"], "public form (GET)": target["form"]}
    results = []
    load_before = os.getloadavg()
    for model in options.models:
        for workers in options.workers:
            label = f"{model} x{workers}" + (f" ({THREADS} threads)" if model == "gthread" else "")
            print(f"gunicorn {label}...", flush=True)
            # Calibration: the bare 50-row list of bench_pages.py, no middleware, through the same server.
            process, port = start_gunicorn(
                options.size, model, workers, workdir / "gunicorn.log", app="bare_wsgi", ready="/bare/"
            )
            try:
                warm(port, "/bare-list/", "", 4 * workers * (THREADS if model == "gthread" else 1))
                for connections in options.connections:
                    figures = run_wrk(wrk, script, port, "/bare-list/", "", connections, options.duration)
                    results.append(
                        {"config": label, "workers": workers, "page": BARE_LIST, "connections": connections, **figures}
                    )
                    print(f"  {BARE_LIST}, {connections} connections: {json.dumps(figures)}", flush=True)
            finally:
                stop(process)
            process, port = start_gunicorn(options.size, model, workers, workdir / "gunicorn.log")
            try:
                for page, path in pages.items():
                    warm(port, path, target["cookie"], 4 * workers * (THREADS if model == "gthread" else 1))
                    for connections in options.connections:
                        figures = run_wrk(wrk, script, port, path, target["cookie"], connections, options.duration)
                        results.append(
                            {"config": label, "workers": workers, "page": page, "connections": connections, **figures}
                        )
                        print(f"  {page}, {connections} connections: {json.dumps(figures)}", flush=True)
            finally:
                stop(process)
    load_after = os.getloadavg()
    print()
    print(
        f"Database rekisteri_bench_{options.size}; wrk {options.duration} s per row on the same machine; "
        f"load average {' '.join(f'{v:.2f}' for v in load_before)} before, "
        f"{' '.join(f'{v:.2f}' for v in load_after)} after; {os.cpu_count()} cores."
    )
    print()
    print("| gunicorn | page | connections | requests/s | p50 ms | p95 ms | p99 ms | not 200 / errors |")
    print("|---|---|---|---|---|---|---|---|")
    for row in results:
        print(
            f"| {row['config']} | {row['page']} | {row['connections']} | {row['rps']:.0f} | {row['p50']:.1f} | "
            f"{row['p95']:.1f} | {row['p99']:.1f} | {row['non2xx']} / {row['errors']} |"
        )
    target_rows = [
        row
        for row in results
        if row["page"].startswith("customer list") and row["connections"] == 8 and row["workers"] == 2
    ]
    bare = {(row["config"], row["connections"]): row["rps"] for row in results if row["page"] == BARE_LIST}
    for row in target_rows:
        mark = "✓" if row["rps"] >= 400 else "✗"
        ceiling = bare.get((row["config"], 8))
        share = f"; the bare 50-row list: {ceiling:.0f}, the list {row['rps'] / ceiling:.0%} of it" if ceiling else ""
        print(
            f"target: customer list ≥ 400 requests/s at 8 connections, 2 workers ({row['config']}): {mark}"
            f" ({row['rps']:.0f}{share})"
        )
    print(f"(gunicorn log: {workdir / 'gunicorn.log'})")


if __name__ == "__main__":
    main()
