"""`aftersales serve --workers N` (issue 12): several worker processes share the port, each with its own database
connections, and together serve reads and writes on SQLite; SIGTERM stops them all."""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.helpers import QUALITY_COMPLAINT
from web.cli import main

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"),
    reason="counts the worker processes in /proc (Linux); --workers itself needs gunicorn, which is POSIX-only",
)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def _call(port: int, method: str, path: str, body: object = None, token: str = "") -> tuple[int, dict]:
    """One request on a fresh connection (so the kernel may hand it to any worker)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Content-Type": "application/json", **({"Authorization": f"Bearer {token}"} if token else {})}
    connection.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers)
    response = connection.getresponse()
    payload = response.read()
    connection.close()
    return response.status, json.loads(payload) if payload else {}


def test_two_worker_processes_serve_reads_and_writes_and_stop_on_sigterm(tmp_path, monkeypatch):
    env = {
        **os.environ,
        "AFTERSALES_HOME": str(tmp_path / "home"),
        "AFTERSALES_DATABASE_URL": f"sqlite:///{tmp_path / 'served.db'}",
    }
    for key in ("AFTERSALES_HOME", "AFTERSALES_DATABASE_URL"):
        monkeypatch.setenv(key, env[key])
    assert CliRunner().invoke(main, ["init", "--demo"], catch_exceptions=False).exit_code == 0
    port = _free_port()
    command = [sys.executable, "-c", "from web.cli import main; main()", "serve", "--workers", "2", "--threads", "2"]
    output_to = {"stdout": subprocess.PIPE, "stderr": subprocess.STDOUT}
    server = subprocess.Popen([*command, "--port", str(port)], env=env, **output_to)  # type: ignore[call-overload]
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if _call(port, "GET", "/healthz")[0] == 200 and len(_children(server.pid)) == 2:
                    break
            except OSError:
                pass
            time.sleep(0.2)
        assert len(_children(server.pid)) == 2, "two worker processes under the master"

        status, body = _call(port, "POST", "/api/v1/auth/token", {"username": "manager", "password": "demo-pass-2026"})
        assert status == 200, body
        token = body["token"]
        answers: list[tuple[int, dict]] = []

        def register_two() -> None:  # fresh connections at once: both workers write, taking turns at the gate
            answers.extend(_call(port, "POST", "/api/v1/cases", QUALITY_COMPLAINT, token) for _ in range(2))

        clients = [threading.Thread(target=register_two) for _ in range(6)]
        for client in clients:
            client.start()
        for client in clients:
            client.join(60)
        assert [status for status, _ in answers] == [201] * 12, answers
        numbers = {case["csi_no"] for _, case in answers}
        assert len(numbers) == 12  # every write landed once, numbered without a clash
        status, listed = _call(port, "GET", "/api/v1/cases?per_page=50", token=token)
        assert status == 200
        assert numbers <= {case["csi_no"] for case in listed["items"]}
    finally:
        server.send_signal(signal.SIGTERM)
        output = server.communicate(timeout=60)[0].decode(errors="replace")
    assert server.returncode == 0, output
    assert "with 2 worker processes" in output
