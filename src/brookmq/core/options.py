"""The MQTT protocol knobs of the broker, with EMQX's names and defaults.

``unit`` metadata tells the configuration loader how to read a value written
as a duration ("2h") or a byte size ("1MB"); durations are seconds here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

SharedStrategy = Literal["random", "round_robin", "sticky", "hash_clientid", "hash_topic"]

NEVER_EXPIRE = 0xFFFFFFFF
_MAX_COUNT = 2**31 - 1  # a sane upper bound for counts that may be "infinity" (0)


def _duration(default: float) -> float:
    return field(default=default, metadata={"unit": "duration"})


def _bytes(default: int) -> int:
    return field(default=default, metadata={"unit": "bytesize"})


@dataclass(frozen=True, slots=True)
class MqttOptions:
    max_packet_size: int = _bytes(1024 * 1024)
    max_clientid_len: int = 65535
    max_topic_levels: int = 128
    max_qos_allowed: int = 2
    max_topic_alias: int = 65535
    retain_available: bool = True
    wildcard_subscription: bool = True
    shared_subscription: bool = True
    shared_subscription_strategy: SharedStrategy = "round_robin"
    max_subscriptions: int = 0  # 0 = infinity
    max_inflight: int = 32
    max_awaiting_rel: int = 100
    await_rel_timeout: float = _duration(300.0)
    max_mqueue_len: int = 1000
    max_mqueue_bytes: int = _bytes(64 * 1024 * 1024)  # payload bytes a session queues; 0 = infinity
    mqueue_store_qos0: bool = True
    session_expiry_interval: float = _duration(7200.0)
    server_keepalive: int = 0  # 0 = disabled: the client's keepalive stands
    max_keepalive: int = 0  # Mosquitto's: a keepalive of 0 or above it becomes it; 0 = disabled
    keepalive_multiplier: float = 1.5
    idle_timeout: float = _duration(15.0)

    def __post_init__(self) -> None:
        problems = []
        if not 0 <= self.max_qos_allowed <= 2:
            problems.append(("max_qos_allowed", "an integer 0, 1 or 2"))
        if not 0 <= self.max_topic_alias <= 65535:
            problems.append(("max_topic_alias", "an integer from 0 to 65535"))
        if not 1 <= self.max_inflight <= 65535:
            problems.append(("max_inflight", "an integer from 1 to 65535"))
        if not 1 <= self.max_awaiting_rel <= 65535:
            problems.append(("max_awaiting_rel", "an integer from 1 to 65535"))
        if not 20 <= self.max_packet_size <= 268_435_460:
            problems.append(("max_packet_size", "a byte size from 20 to 256MB"))
        if not 23 <= self.max_clientid_len <= 65535:
            problems.append(("max_clientid_len", "an integer from 23 to 65535"))
        if not 0 <= self.max_mqueue_len <= _MAX_COUNT:
            problems.append(("max_mqueue_len", f"0 (infinity) up to {_MAX_COUNT}"))
        if not 0 <= self.max_mqueue_bytes <= 2**40:
            problems.append(("max_mqueue_bytes", "a byte size from 0 (infinity) to 1TB"))
        if not 1 <= self.max_topic_levels <= 65535:
            problems.append(("max_topic_levels", "an integer from 1 to 65535"))
        if not 0 <= self.max_subscriptions <= _MAX_COUNT:
            problems.append(("max_subscriptions", f"0 (infinity) up to {_MAX_COUNT}"))
        if not 0 < self.keepalive_multiplier <= 100:
            problems.append(("keepalive_multiplier", "more than 0, at most 100"))
        for name in ("await_rel_timeout", "session_expiry_interval", "idle_timeout"):
            if not 0 <= getattr(self, name) <= NEVER_EXPIRE:
                problems.append((name, f"a duration from 0 to {NEVER_EXPIRE} seconds"))
        if not 0 <= self.server_keepalive <= 65535:
            problems.append(("server_keepalive", "an integer from 0 (disabled) to 65535"))
        if not 0 <= self.max_keepalive <= 65535:
            problems.append(("max_keepalive", "an integer from 0 (disabled) to 65535"))
        if problems:
            key, want = problems[0]
            raise ValueError(f"{key}: must be {want}")


@dataclass(frozen=True, slots=True)
class RetainerOptions:
    """Which retained messages are kept; off means none are kept or sent (EMQX's ``retainer``)."""

    enable: bool = True
    max_payload_size: int = 1024 * 1024  # a larger message is not kept; 0: no limit
    max_messages: int = 0  # a message for a new topic is not kept past this many; 0: no limit
