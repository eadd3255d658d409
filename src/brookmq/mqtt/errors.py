"""The one exception the codec raises for bad input."""

from __future__ import annotations

from brookmq.mqtt import reason_codes as rc


class ProtocolError(Exception):
    """Bad input from a peer; ``reason_code`` is the MQTT 5 reason code to close with."""

    def __init__(self, reason_code: int, message: str) -> None:
        super().__init__(message)
        self.reason_code = reason_code
        self.message = message


def malformed(message: str) -> ProtocolError:
    return ProtocolError(rc.MALFORMED_PACKET, message)


def protocol_error(message: str) -> ProtocolError:
    return ProtocolError(rc.PROTOCOL_ERROR, message)
