"""Serve the app: one waitress process, or several worker processes under gunicorn sharing the port (issue 12).

One Python process runs one request's Python at a time (the GIL), so on a machine with several CPUs a single server
process leaves them idle however many threads it has: eight clients got no more than one. With `workers` > 1 the
app is built once in gunicorn's master (models parsed, start-up objects frozen out of the collector), then forked
into worker processes with `threads` threads each; every worker gets its own database connections and runs its own
copy of the embedded timer worker (any number may run at once, DESIGN.md "Command line"). On SQLite the writers of
all processes take turns at the write gate (`engine/write_gate.py`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask

from web.context import forget_connections


class ServingError(RuntimeError):
    """The serving setup asked for cannot run here."""


WorkerHook = Callable[[], Callable[[], None]]  # starts a worker's background work, returns how to stop it


def serve(app: Flask, *, host: str, port: int, threads: int, workers: int, on_worker: WorkerHook | None) -> None:
    """Serve until stopped; `on_worker` runs once in each serving process (waitress: this one)."""
    if workers <= 1:
        from waitress import serve as waitress_serve

        stop = on_worker() if on_worker else None
        try:
            waitress_serve(app, host=host, port=port, threads=threads)
        finally:
            if stop:
                stop()
        return
    workers_app(app, host=host, port=port, threads=threads, workers=workers, on_worker=on_worker).run()


def workers_app(app: Flask, *, host: str, port: int, threads: int, workers: int, on_worker: WorkerHook | None) -> Any:
    """A gunicorn application serving `app` with `workers` processes of `threads` threads (gthread workers).

    :raises ServingError: gunicorn is not available here (it needs a POSIX system).
    """
    try:
        from gunicorn.app.base import BaseApplication
    except ImportError as exc:  # pragma: no cover - Windows has no gunicorn
        raise ServingError("several worker processes need gunicorn (POSIX systems only); use --workers 1") from exc

    forget_connections(app, close=True)  # the master never queries again: children start with empty pools
    stoppers: list[Callable[[], None]] = []

    def post_fork(_server: Any, _worker: Any) -> None:
        forget_connections(app, close=False)  # connections are never shared across a fork (SQLAlchemy pooling docs)

    def post_worker_init(_worker: Any) -> None:
        if on_worker:
            stoppers.append(on_worker())

    def worker_exit(_server: Any, _worker: Any) -> None:
        for stop in stoppers:
            stop()

    options = {
        "bind": f"{host}:{port}",
        "workers": workers,
        "worker_class": "gthread",
        "threads": threads,
        "preload_app": True,
        "post_fork": post_fork,
        "post_worker_init": post_worker_init,
        "worker_exit": worker_exit,
        "timeout": 120,
        "graceful_timeout": 30,
        "keepalive": 5,
        "control_socket_disable": True,  # one socket per user ($HOME/.gunicorn): several servers would share it
    }

    class _WorkersApplication(BaseApplication):  # type: ignore[misc]
        """gunicorn's embedding API: its settings from `options`, the already built app as the WSGI callable."""

        def load_config(self) -> None:
            for key, value in options.items():
                self.cfg.set(key, value)

        def load(self) -> Flask:
            return app

    return _WorkersApplication()
