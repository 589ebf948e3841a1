"""Throw-away Redis servers and Sentinels on free ports, for the tests of the locks and of Sentinel URLs."""

import contextlib
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest
import redis


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _binary() -> str:
    path = shutil.which("redis-server")
    if path is None:
        pytest.skip("needs redis-server on PATH (Debian's redis-server package; CI has it)")
    return path


@contextlib.contextmanager
def redis_server(folder: Path, *, sentinel_for: tuple[str, int] | None = None):
    """Run a redis-server (or, with sentinel_for=(master name, port), a Sentinel watching it); yield its port."""
    port = free_port()
    if sentinel_for is None:
        command = [_binary(), "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    else:
        name, master_port = sentinel_for
        # A Sentinel rewrites its configuration file, so it gets one of its own.
        config = folder / f"sentinel-{port}.conf"
        config.write_text(
            f"port {port}\nbind 127.0.0.1\ndir {folder}\nsentinel monitor {name} 127.0.0.1 {master_port} 1\n"
        )
        command = [_binary(), str(config), "--sentinel"]
    process = subprocess.Popen(command, cwd=folder, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        client = redis.Redis(port=port, socket_timeout=0.5, socket_connect_timeout=0.5)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                assert process.poll() is None, f"redis-server exited: {command}"
                assert time.monotonic() < deadline, f"redis-server did not start: {command}"
                time.sleep(0.05)
        client.close()
        yield port, process
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
