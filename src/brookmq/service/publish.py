"""Publishing over HTTP: messages from ``http_api``, checked like a client's PUBLISH.

A refusal carries the MQTT reason code EMQX answers with (``{reason_code, message}``). A batch
is checked whole before anything is published.
"""

from __future__ import annotations

import base64
import binascii
import uuid
from dataclasses import dataclass
from typing import Any

from brookmq.core.broker import Broker
from brookmq.core.message import Message
from brookmq.core.metrics import QOS_RECEIVED
from brookmq.mqtt import reason_codes as rc
from brookmq.mqtt.topics import has_wildcard, is_sys, topic_name_problem
from brookmq.service.errors import ServiceError

ORIGIN = "http_api"
_PROPERTIES = (
    "payload_format_indicator",
    "message_expiry_interval",
    "response_topic",
    "correlation_data",
    "user_properties",
    "content_type",
)


class Refused(ServiceError):
    def __init__(self, reason_code: int, message: str) -> None:
        super().__init__(message)
        self.reason_code = reason_code


@dataclass(slots=True)
class Outcome:
    """``id`` when at least one subscriber got it, else why not."""

    id: str | None
    reason_code: int = rc.SUCCESS
    message: str = ""


class Publisher:
    def __init__(self, broker: Broker) -> None:
        self.broker = broker

    def prepare(
        self,
        topic: str,
        payload: str,
        encoding: str = "plain",
        qos: int = 0,
        retain: bool = False,
        properties: dict[str, Any] | None = None,
        system: bool = False,
    ) -> Message:
        """``system``: the caller may publish to ``$SYS/...`` (only the broker and superusers may)."""
        opts = self.broker.options
        if topic_name_problem(topic, opts.max_topic_levels):
            raise Refused(rc.TOPIC_NAME_INVALID, "topic_name_invalid")
        if not system and is_sys(topic):
            raise Refused(rc.NOT_AUTHORIZED, "not_authorized")
        if encoding == "base64":
            try:
                data = base64.b64decode(payload, validate=True)
            except (binascii.Error, ValueError):
                raise Refused(rc.IMPLEMENTATION_SPECIFIC_ERROR, "decode_base64_payload_failed") from None
        else:
            data = payload.encode()
        if qos > opts.max_qos_allowed:
            raise Refused(rc.QOS_NOT_SUPPORTED, "qos_not_supported")
        if retain and not opts.retain_available:
            raise Refused(rc.RETAIN_NOT_SUPPORTED, "retain_not_supported")
        props = _properties(properties or {})
        # Fixed header, topic, packet id and property bytes: what a client would be sent at least.
        if opts.max_packet_size and len(data) + len(topic.encode()) + 16 > opts.max_packet_size:
            raise Refused(rc.QUOTA_EXCEEDED, "packet_too_large")  # 151, not 149: EMQX's answer
        return Message(topic, data, qos, retain, props or None, ORIGIN, None, self.broker.clock.time())

    def largest_body(self) -> int:
        """The request body a publish route must take: a message of the largest packet MQTT
        takes, base64 or escaped in JSON."""
        return 4 * self.broker.options.max_packet_size

    def publish(self, message: Message) -> Outcome:
        counters = self.broker.counters
        counters["messages.received"] += 1
        counters[QOS_RECEIVED[message.qos]] += 1
        if self.broker.publish(message):
            return Outcome(uuid.uuid4().hex.upper())
        return Outcome(None, rc.NO_MATCHING_SUBSCRIBERS, "no_matching_subscribers")


def _properties(given: dict[str, Any]) -> dict[str, Any]:
    props: dict[str, Any] = {}
    for name, value in given.items():
        if name not in _PROPERTIES:
            raise Refused(rc.IMPLEMENTATION_SPECIFIC_ERROR, f"properties.{name}: unknown property")
        if value is None:
            continue
        if name == "user_properties":
            if not isinstance(value, dict):
                raise Refused(
                    rc.IMPLEMENTATION_SPECIFIC_ERROR, "properties.user_properties: must be an object"
                )
            props["user_property"] = [(str(k), str(v)) for k, v in value.items()]
        elif name == "correlation_data":
            props[name] = str(value).encode()
        elif name in ("payload_format_indicator", "message_expiry_interval"):
            top = 1 if name == "payload_format_indicator" else 0xFFFFFFFF
            if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= top:
                raise Refused(
                    rc.IMPLEMENTATION_SPECIFIC_ERROR, f"properties.{name}: must be an integer 0..{top}"
                )
            props[name] = value
        else:
            if not isinstance(value, str):
                raise Refused(rc.IMPLEMENTATION_SPECIFIC_ERROR, f"properties.{name}: must be a string")
            if name == "response_topic" and has_wildcard(value):  # [MQTT-3.3.2-14]
                raise Refused(rc.TOPIC_NAME_INVALID, "properties.response_topic: contains a wildcard")
            props[name] = value
    return props
