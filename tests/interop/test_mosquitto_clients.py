"""Debian's mosquitto_pub and mosquitto_sub against the broker process."""

from __future__ import annotations

import shutil
import signal
import subprocess
import time
import uuid

import pytest

VERSIONS = ["mqttv31", "mqttv311", "mqttv5"]


def sub_proc(port: int, topic: str, count: int, version: str, *extra: str) -> subprocess.Popen:
    assert shutil.which("mosquitto_sub"), "mosquitto-clients is not installed (make test installs it)"
    proc = subprocess.Popen(
        [
            "mosquitto_sub",
            "-h",
            "127.0.0.1",
            "-p",
            str(port),
            "-t",
            topic,
            "-q",
            "2",
            "-C",
            str(count),
            "-W",
            "10",
            "-V",
            version,
            "-v",
            *extra,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    time.sleep(0.4)  # let it subscribe
    return proc


def pub(port: int, topic: str, message: str, version: str, *extra: str) -> None:
    subprocess.run(
        [
            "mosquitto_pub",
            "-h",
            "127.0.0.1",
            "-p",
            str(port),
            "-t",
            topic,
            "-m",
            message,
            "-V",
            version,
            *extra,
        ],
        check=True,
        timeout=10,
    )


@pytest.mark.parametrize("version", VERSIONS)
def test_mosquitto_clients_qos_0_1_2(broker_port, version):
    topic = f"mosq/{uuid.uuid4().hex}"
    sub = sub_proc(broker_port, topic, 3, version)
    for qos in (0, 1, 2):
        pub(broker_port, topic, f"m{qos}", version, "-q", str(qos))
    out, err = sub.communicate(timeout=15)
    assert sub.returncode == 0, err
    assert out.splitlines() == [f"{topic} m0", f"{topic} m1", f"{topic} m2"]


@pytest.mark.parametrize("version", VERSIONS)
def test_mosquitto_clients_retained(broker_port, version):
    topic = f"mosq/retained/{uuid.uuid4().hex}"
    pub(broker_port, topic, "kept", version, "-r", "-q", "1")
    sub = sub_proc(broker_port, topic, 1, version)
    out, err = sub.communicate(timeout=15)
    assert out.splitlines() == [f"{topic} kept"], err
    subprocess.run(  # clear it: an empty retained message
        ["mosquitto_pub", "-h", "127.0.0.1", "-p", str(broker_port), "-t", topic, "-r", "-n"],
        check=True,
        timeout=10,
    )


@pytest.mark.parametrize("version", VERSIONS)
def test_mosquitto_clients_will_on_kill(broker_port, version):
    topic = f"mosq/will/{uuid.uuid4().hex}"
    watcher = sub_proc(broker_port, topic, 1, version)
    doomed = subprocess.Popen(
        [
            "mosquitto_sub",
            "-h",
            "127.0.0.1",
            "-p",
            str(broker_port),
            "-t",
            "ignored",
            "-V",
            version,
            "--will-topic",
            topic,
            "--will-payload",
            "killed",
            "--will-qos",
            "1",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    time.sleep(0.4)
    doomed.send_signal(signal.SIGKILL)  # the kernel closes the socket: no DISCONNECT
    doomed.wait()
    out, err = watcher.communicate(timeout=15)
    assert out.splitlines() == [f"{topic} killed"], err
