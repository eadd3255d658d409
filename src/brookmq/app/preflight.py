"""What must hold before anything starts: the data directory is usable, every enabled
listener's certificate loads and its address is free. Each problem is one line naming the
setting, the address or the file (``brookmq start`` prints it and exits 2), never a traceback."""

from __future__ import annotations

import os
import socket
from pathlib import Path

from brookmq.config.settings import HttpsListenerSettings, Settings
from brookmq.transport.options import SslOptions, parse_bind
from brookmq.transport.tls import server_context


class StartupError(Exception):
    """One line for the operator."""


def check(settings: Settings) -> None:
    data_dir = settings.node.data_dir
    _data_dir(data_dir)
    taken: dict[tuple[str, int], str] = {}
    for kind, named in settings.listeners.as_dict().items():
        for name, options in named.items():
            if options.enable:
                where = f"listeners.{kind}.{name}"
                if kind in ("ssl", "wss"):
                    _tls(where, options.ssl_options, data_dir)
                _free(where, *options.address(kind), taken)
    http, https = settings.dashboard.listeners.http, settings.dashboard.listeners.https
    if http.enable:
        _free("dashboard.listeners.http", *parse_bind(http.bind), taken)
    if https.enable:
        _tls("dashboard.listeners.https", https.ssl_options, data_dir)
        _free("dashboard.listeners.https", *parse_bind(https.bind), taken)
    for name, http_options in settings.management.listeners.enabled():
        where = f"management.listeners.{name}"
        if isinstance(http_options, HttpsListenerSettings):
            _tls(where, http_options.ssl_options, data_dir)
        _free(where, *parse_bind(http_options.bind), taken)


def _data_dir(data_dir: str) -> None:
    path = Path(data_dir)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise StartupError(f"node.data_dir {data_dir}: is not a directory") from None
    except OSError as exc:
        raise StartupError(f"node.data_dir {data_dir}: cannot be created: {exc.strerror}") from None
    if not os.access(path, os.R_OK | os.W_OK | os.X_OK):
        raise StartupError(f"node.data_dir {data_dir}: this user cannot read and write it")


def _tls(where: str, options: SslOptions, data_dir: str) -> None:
    for field in ("certfile", "keyfile", "cacertfile"):
        path = getattr(options, field)
        if path:
            try:
                Path(path).open("rb").close()
            except OSError as exc:
                raise StartupError(f"{where}.ssl_options.{field} {path}: {exc.strerror}") from None
    try:
        server_context(options, data_dir)
    except OSError as exc:
        if exc.filename is None:  # ssl.SSLError is an OSError without a file
            detail = getattr(exc, "reason", None) or exc.strerror or str(exc)
            raise StartupError(
                f"{where}.ssl_options: the certificate or key does not load: {detail}"
            ) from None
        raise StartupError(f"{where}.ssl_options: {exc.filename}: {exc.strerror}") from None


def _free(where: str, host: str, port: int, taken: dict[tuple[str, int], str]) -> None:
    if port == 0:
        return  # any free port
    other = taken.get((host, port))
    if other is not None:
        raise StartupError(f"{where}: {host}:{port} is also {other}'s address")
    taken[(host, port)] = where
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the listeners bind
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise StartupError(f"{where}: cannot listen on {host}:{port}: {exc.strerror}") from None
