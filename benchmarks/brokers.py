"""Start and stop each broker under test, fresh per scenario, pinned to one core."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

WORK = Path(__file__).parent / "work"
BROKER_CORE = "0"


@dataclass
class Running:
    name: str
    port: int
    proc: subprocess.Popen[bytes]
    ws_port: int = 0  # MQTT over WebSocket, where the broker serves it here
    api_port: int = 0  # BrookMQ's management API, for the api scenario

    @property
    def pid(self) -> int:
        return self.proc.pid

    def stop(self) -> None:
        for conf in WORK.glob(f"*-{self.port}.*"):
            conf.unlink()  # the per-run config file
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_listening(port: int, proc: subprocess.Popen[bytes], name: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{name} exited with {proc.returncode} before listening")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise RuntimeError(f"{name} did not listen on {port}")


def _pinned(cmd: list[str]) -> list[str]:
    return ["taskset", "-c", BROKER_CORE, *cmd] if shutil.which("taskset") else cmd


API_KEY = ("bench", "bench-secret-0123456789")


def start_brookmq(port: int, ws_port: int, api_port: int = 0) -> subprocess.Popen[bytes]:
    """BrookMQ as `make run` starts it (uvloop on, SQLite store with its default durability),
    on loopback ports with a fresh data directory; TLS listeners off. The management API only
    with ``api_port`` (an administrator key ``API_KEY``)."""
    shutil.rmtree(WORK / "brookmq-data", ignore_errors=True)
    keys = WORK / "api-keys.txt"
    keys.write_text(f"{API_KEY[0]}:{API_KEY[1]}:administrator\n")
    env = dict(
        os.environ,
        BROOKMQ_LISTENERS__TCP__DEFAULT__BIND=f"127.0.0.1:{port}",
        BROOKMQ_LISTENERS__WS__DEFAULT__BIND=f"127.0.0.1:{ws_port}",
        BROOKMQ_LISTENERS__SSL__DEFAULT__ENABLE="false",
        BROOKMQ_LISTENERS__WSS__DEFAULT__ENABLE="false",
        BROOKMQ_DASHBOARD__LISTENERS__HTTP__ENABLE="true" if api_port else "false",
        BROOKMQ_DASHBOARD__LISTENERS__HTTP__BIND=f"127.0.0.1:{api_port}",
        BROOKMQ_MANAGEMENT__LISTENERS__HTTP__ENABLE="false",
        BROOKMQ_API_KEY__BOOTSTRAP_FILE=str(keys),
        BROOKMQ_NODE__DATA_DIR=str(WORK / "brookmq-data"),
        BROOKMQ_LOG__LEVEL="warning",
    )
    brookmq = Path(sys.executable).with_name("brookmq")
    return subprocess.Popen(_pinned([str(brookmq), "start"]), env=env, stdout=subprocess.DEVNULL)


def start_mosquitto(port: int, persistent: bool) -> subprocess.Popen[bytes]:
    binary = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    conf = WORK / f"mosquitto-{port}.conf"
    store = WORK / "mosquitto-data"
    shutil.rmtree(store, ignore_errors=True)
    store.mkdir()
    persistence = (
        f"persistence true\npersistence_location {store}/\n" if persistent else "persistence false\n"
    )
    conf.write_text(f"listener {port} 127.0.0.1\nallow_anonymous true\n{persistence}log_dest none\n")
    return subprocess.Popen(
        _pinned([binary, "-c", str(conf)]), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


def amqtt_binary() -> Path:
    """amqtt lives in its own virtualenv under the work dir, made on first use."""
    venv = WORK / "amqtt-venv"
    binary = venv / "bin" / "amqtt"
    if not binary.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(venv / "bin" / "pip"), "install", "--quiet", "amqtt==0.12.1"], check=True)
    return binary


def start_amqtt(port: int, persistent: bool) -> subprocess.Popen[bytes]:
    """amqtt has no persistence to turn on: ``persistent`` changes nothing."""
    conf = WORK / f"amqtt-{port}.yaml"
    conf.write_text(
        "listeners:\n  default:\n    type: tcp\n"
        f"    bind: 127.0.0.1:{port}\n"
        "plugins:\n  amqtt.plugins.authentication.AnonymousAuthPlugin:\n    allow_anonymous: true\n"
    )
    return subprocess.Popen(
        _pinned([str(amqtt_binary()), "-c", str(conf)]), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


STARTERS = {"mosquitto": start_mosquitto, "amqtt": start_amqtt}


def start(name: str, persistent: bool = False, api: bool = False) -> Running:
    """Start ``name``; ``persistent`` turns on its persistence where that is an option, ``api``
    BrookMQ's management API."""
    WORK.mkdir(exist_ok=True)
    port = free_port()
    ws_port = api_port = 0
    if name == "brookmq":
        ws_port = free_port()
        api_port = free_port() if api else 0
        proc = start_brookmq(port, ws_port, api_port)
        _wait_listening(ws_port, proc, name)
        if api_port:
            _wait_listening(api_port, proc, name)
    else:
        proc = STARTERS[name](port, persistent)
    _wait_listening(port, proc, name)
    return Running(name, port, proc, ws_port, api_port)


def versions() -> dict[str, str]:
    out = {}
    mosq = subprocess.run(
        [shutil.which("mosquitto") or "/usr/sbin/mosquitto", "-h"], capture_output=True, text=True
    ).stdout
    out["mosquitto"] = mosq.splitlines()[0] if mosq else "unknown"
    out["amqtt"] = "amqtt 0.12.1"
    from brookmq import __version__

    out["brookmq"] = f"BrookMQ {__version__}"
    return out
