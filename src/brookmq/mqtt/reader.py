"""Incremental framing: bytes in, every complete packet out."""

from __future__ import annotations

from brookmq.mqtt import reason_codes as rc
from brookmq.mqtt.codec import DECODERS
from brookmq.mqtt.errors import ProtocolError, malformed
from brookmq.mqtt.packets import MQTT_3_1_1, Connect, Packet, Publish

_MAX_REMAINING = 268_435_455


class PacketReader:
    """Frames packets from a byte stream.

    ``feed`` returns every complete packet in the buffer. On bad input it returns
    the packets decoded before the fault and sets ``error``; the reader is then
    dead and the connection must be closed. The maximum packet size is checked
    against the fixed header, before any of the body is buffered [MQTT-3.1.2-24].
    """

    __slots__ = ("_buffer", "awaiting_connect", "error", "max_packet_size", "version")

    def __init__(self, max_packet_size: int = _MAX_REMAINING + 5, version: int = MQTT_3_1_1):
        self._buffer = b""
        self.error: ProtocolError | None = None
        # Until CONNECT arrives, any other packet type is refused from its first byte [MQTT-3.1.0-1].
        self.awaiting_connect = True
        self.max_packet_size = max_packet_size
        self.version = version

    @property
    def buffered(self) -> int:
        return len(self._buffer)

    def feed(self, data: bytes) -> list[Packet]:
        if self.error is not None:
            return []
        buf = self._buffer + data if self._buffer else data
        end = len(buf)
        pos = 0
        out: list[Packet] = []
        decoders = DECODERS
        version = self.version
        try:
            while end - pos >= 2:
                first = buf[pos]
                if self.awaiting_connect and first >> 4 != 1:
                    raise ProtocolError(rc.PROTOCOL_ERROR, "first packet is not CONNECT")
                # Remaining length: a Variable Byte Integer of at most 4 bytes.
                length = buf[pos + 1]
                head = pos + 2
                if length & 0x80:
                    length &= 0x7F
                    shift = 7
                    while True:
                        if head >= end:
                            self._buffer = buf[pos:]
                            return out
                        byte = buf[head]
                        head += 1
                        length |= (byte & 0x7F) << shift
                        if not byte & 0x80:
                            if byte == 0:
                                raise malformed("remaining length is not minimally encoded")
                            break
                        shift += 7
                        if shift == 28:
                            raise malformed("remaining length longer than 4 bytes")
                if length + (head - pos) > self.max_packet_size:
                    raise ProtocolError(
                        rc.PACKET_TOO_LARGE,
                        f"packet of {length + head - pos} bytes exceeds the maximum "
                        f"packet size {self.max_packet_size}",
                    )
                stop = head + length
                if stop > end:
                    break
                if first >> 4 == 3:
                    packet = _fast_publish(first, buf, head, stop, version)
                    if packet is not None:
                        if version != 5 and not first & 0x08:
                            packet.raw = buf[pos:stop]
                        out.append(packet)
                        pos = stop
                        continue
                packet = decoders[first >> 4](first & 0x0F, buf, head, stop, version)
                if type(packet) is Connect:
                    version = self.version = packet.protocol_level
                    self.awaiting_connect = False
                out.append(packet)
                pos = stop
        except ProtocolError as exc:
            self.error = exc
            self._buffer = b""
            return out
        self._buffer = buf[pos:] if pos < end else b""
        return out


def _fast_publish(first: int, buf: bytes, head: int, stop: int, version: int) -> Publish | None:
    """The common PUBLISH (valid flags, no v5 properties) without the general decoder.

    Returns None for anything else, which then goes through the full decoder and its checks.
    """
    qos = (first >> 1) & 3
    if qos == 3 or (first & 0x08 and not qos) or stop - head < 2:
        return None
    pos = head + 2 + ((buf[head] << 8) | buf[head + 1])
    packet_id = 0
    if qos:
        if pos + 2 > stop:
            return None
        packet_id = (buf[pos] << 8) | buf[pos + 1]
        if not packet_id:
            return None
        pos += 2
    if version == 5:
        if pos >= stop or buf[pos]:
            return None
        pos += 1
    elif pos > stop:
        return None
    try:
        topic = buf[head + 2 : pos - (2 if qos else 0) - (1 if version == 5 else 0)].decode()
    except UnicodeDecodeError:
        return None
    if "\x00" in topic:
        return None
    return Publish(
        topic,
        buf[pos:stop],
        qos,
        bool(first & 1),
        bool(first & 0x08),
        packet_id,
        {} if version == 5 else None,
    )
