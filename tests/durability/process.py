"""A broker process that tests stop, kill -9 and start again on the same data directory,
and a plain blocking MQTT client that shows every packet (PUBREC included)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from brookmq.mqtt import packets as pk
from brookmq.mqtt.codec import encode
from brookmq.mqtt.reader import PacketReader


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class BrokerProcess:
    def __init__(self, data_dir: Path, config: Path | None = None, **env: str) -> None:
        self.data_dir = data_dir
        self.args = ["--config", str(config)] if config is not None else []
        self.port = free_port()
        self.api_port = free_port()  # the dashboard listener (management API)
        self.mgmt_port = free_port()  # the management listener (legacy dialects)
        self.env = dict(
            os.environ,
            BROOKMQ_NODE__DATA_DIR=str(data_dir),
            BROOKMQ_SYS_TOPICS__SYS_MSG_INTERVAL="0",
            BROOKMQ_LISTENERS__TCP__DEFAULT__BIND=f"127.0.0.1:{self.port}",
            BROOKMQ_LISTENERS__SSL__DEFAULT__ENABLE="false",
            BROOKMQ_LISTENERS__WS__DEFAULT__ENABLE="false",
            BROOKMQ_LISTENERS__WSS__DEFAULT__ENABLE="false",
            BROOKMQ_DASHBOARD__LISTENERS__HTTP__BIND=f"127.0.0.1:{self.api_port}",
            BROOKMQ_MANAGEMENT__LISTENERS__HTTP__BIND=f"127.0.0.1:{self.mgmt_port}",
            **env,
        )
        self.proc: subprocess.Popen[str] | None = None

    def start(self) -> BrokerProcess:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "brookmq", "start", *self.args],
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return self
            except OSError:
                if self.proc.poll() is not None:
                    output = self.proc.stdout.read() if self.proc.stdout else ""
                    raise RuntimeError(f"broker exited: {output}") from None
                time.sleep(0.02)
        self.kill()
        raise RuntimeError("broker did not start listening")

    def kill(self) -> None:
        """kill -9: no shutdown code runs."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)
        self.proc = None

    def stop(self) -> str:
        """SIGTERM; returns what the broker logged."""
        assert self.proc is not None
        self.proc.terminate()
        out, _ = self.proc.communicate(timeout=20)
        assert self.proc.returncode == 0, out
        self.proc = None
        return out


class Wire:
    """A blocking MQTT client over a socket, packet by packet."""

    def __init__(self, port: int, version: int = pk.MQTT_3_1_1, source: str | None = None) -> None:
        """``source``: the loopback address to connect from (127.0.0.2, ...)."""
        self.version = version
        self.sock = socket.create_connection(
            ("127.0.0.1", port), timeout=5, source_address=(source, 0) if source else None
        )
        self.reader = PacketReader(version=version)
        self.reader.awaiting_connect = False
        self.inbox: list[pk.Packet] = []

    def send(self, *packets: pk.Packet) -> None:
        self.sock.sendall(b"".join(encode(p, self.version) for p in packets))

    def recv(self, timeout: float = 5) -> pk.Packet:
        """The next packet; raises TimeoutError or ConnectionError."""
        self.sock.settimeout(timeout)
        while not self.inbox:
            data = self.sock.recv(65536)
            if not data:
                raise ConnectionError("closed by the broker")
            self.inbox.extend(self.reader.feed(data))
        return self.inbox.pop(0)

    def connect(self, client_id: str, clean_start: bool = True, **kwargs: object) -> pk.Connack:
        self.send(pk.Connect(client_id, self.version, clean_start, **kwargs))  # type: ignore[arg-type]
        connack = self.recv()
        assert isinstance(connack, pk.Connack), connack
        return connack

    def close(self) -> None:
        self.sock.close()
