"""Data representations of MQTT section 1.5: integers, UTF-8 strings, binary data, varints."""

from __future__ import annotations

from brookmq.mqtt.errors import malformed

MAX_VARINT = 268_435_455


def decode_varint(data: bytes, pos: int, end: int) -> tuple[int, int]:
    """Decode a Variable Byte Integer [MQTT-1.5.5-1]; returns (value, next position)."""
    value = 0
    shift = 0
    start = pos
    while True:
        if pos >= end:
            raise malformed("variable byte integer is truncated")
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            break
        shift += 7
        if shift == 28:
            raise malformed("variable byte integer longer than 4 bytes")
    if pos - start > 1 and byte == 0:
        raise malformed("variable byte integer is not minimally encoded")  # [MQTT-1.5.5-1]
    return value, pos


def encode_varint(value: int) -> bytes:
    if value < 128:
        return bytes((value,))
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def decode_binary(data: bytes, pos: int, end: int) -> tuple[bytes, int]:
    if pos + 2 > end:
        raise malformed("length prefix is truncated")
    length = (data[pos] << 8) | data[pos + 1]
    pos += 2
    stop = pos + length
    if stop > end:
        raise malformed("string or binary data runs past the end of the packet")
    return bytes(data[pos:stop]), stop


def decode_string(data: bytes, pos: int, end: int) -> tuple[str, int]:
    """A UTF-8 Encoded String: well-formed UTF-8, no surrogates, no U+0000 [MQTT-1.5.4-1/2]."""
    raw, pos = decode_binary(data, pos, end)
    try:
        text = raw.decode("utf-8")  # Python's strict codec rejects surrogates D800-DFFF
    except UnicodeDecodeError:
        raise malformed("ill-formed UTF-8 string") from None
    if "\x00" in text:
        raise malformed("UTF-8 string contains U+0000")
    return text, pos


def encode_binary(value: bytes) -> bytes:
    return len(value).to_bytes(2, "big") + value


def encode_string(value: str) -> bytes:
    raw = value.encode("utf-8")
    return len(raw).to_bytes(2, "big") + raw
