"""Hashing, compression, base64, hex, JSON and bit-sequence functions. What decodes to bytes
is a string again when it is UTF-8 text (``base64_decode('aGVsbG8=')`` is ``'hello'``)."""

from __future__ import annotations

import base64
import binascii
import hashlib
import struct
import zlib
from collections.abc import Callable
from typing import Any

from brookmq.extensions.rules.values import SqlRuntimeError, binary, integer, json_text, loads, string

# Erlang's zlib:gzip header: no name, no time, OS byte 0x13 (as EMQX's output shows).
_GZIP_HEADER = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x13"


def as_value(data: bytes) -> str | bytes:
    try:
        return data.decode()
    except UnicodeDecodeError:
        return data


def _deflate(data: bytes, wbits: int) -> bytes:
    packer = zlib.compressobj(zlib.Z_DEFAULT_COMPRESSION, zlib.DEFLATED, wbits)
    return packer.compress(data) + packer.flush()


def _inflate(data: bytes, wbits: int) -> str | bytes:
    try:
        return as_value(zlib.decompress(data, wbits))
    except zlib.error as exc:
        raise SqlRuntimeError(f"cannot uncompress: {exc}") from None


def gzip(data: Any) -> bytes:
    raw = binary(data)
    trailer = struct.pack("<II", zlib.crc32(raw), len(raw) & 0xFFFFFFFF)
    return _GZIP_HEADER + _deflate(raw, -15) + trailer


def hash_hex(algorithm: Any, data: Any) -> str:
    name = {"sha": "sha1"}.get(string(algorithm), string(algorithm))
    try:
        digest = hashlib.new(name, binary(data))
    except ValueError:
        raise SqlRuntimeError(f"unknown hash algorithm {name}") from None
    return digest.hexdigest()


def base64_decode(data: Any) -> str | bytes:
    try:
        return as_value(base64.b64decode(binary(data), validate=True))
    except binascii.Error as exc:
        raise SqlRuntimeError(f"not base64: {exc}") from None


def json_decode(data: Any) -> Any:
    try:
        return loads(binary(data))
    except ValueError:
        raise SqlRuntimeError("not JSON") from None


def bin2hexstr(data: Any, prefix: Any = None) -> str:
    return (string(prefix) if prefix is not None else "") + binary(data).hex().upper()


def hexstr2bin(data: Any, prefix: Any = None) -> str | bytes:
    raw = string(data)
    if prefix is not None:
        if not raw.startswith(string(prefix)):
            raise SqlRuntimeError("the string does not start with the prefix")
        raw = raw[len(string(prefix)) :]
    try:
        return as_value(bytes.fromhex(raw))
    except ValueError:
        raise SqlRuntimeError(f"{raw!r} is not hexadecimal") from None


_FLOATS = {16: "e", 32: "f", 64: "d"}


def subbits(
    data: Any,
    start_or_length: Any,
    length: Any = None,
    kind: Any = "integer",
    signedness: Any = "unsigned",
    endianness: Any = "big",
) -> Any:
    """``bits`` from the 1-based bit ``start`` (fewer when the data ends first): an integer
    (signed or not, big or little endian), a float of 16, 32 or 64 bits, or the bits."""
    raw = binary(data)
    start, count = (
        (1, integer(start_or_length)) if length is None else (integer(start_or_length), integer(length))
    )
    total = len(raw) * 8
    begin = start - 1
    if begin < 0 or begin >= total or count <= 0:
        return None
    take = min(count, total - begin)
    value = (int.from_bytes(raw, "big") >> (total - begin - take)) & ((1 << take) - 1)
    little = string(endianness) == "little"
    if little:
        if take % 8:
            raise SqlRuntimeError("little endian needs a whole number of bytes")
        value = int.from_bytes(value.to_bytes(take // 8, "big"), "little")
    type_name = string(kind)
    if type_name == "integer":
        if string(signedness) == "signed" and value >= 1 << (take - 1):
            value -= 1 << take
        return value
    if type_name == "float":
        if take not in _FLOATS:
            raise SqlRuntimeError("a float has 16, 32 or 64 bits")
        return struct.unpack(("<" if little else ">") + _FLOATS[take], value.to_bytes(take // 8, "big"))[0]
    if type_name == "bits":
        if take % 8:
            raise SqlRuntimeError("bits that are not whole bytes")
        return as_value(value.to_bytes(take // 8, "big"))
    raise SqlRuntimeError(f"{type_name!r} is not integer, float or bits")


FUNCTIONS: dict[str, Callable[..., Any]] = {
    "md5": lambda data: hash_hex("md5", data),
    "sha": lambda data: hash_hex("sha1", data),
    "sha256": lambda data: hash_hex("sha256", data),
    "hash": hash_hex,
    "gzip": gzip,
    "gunzip": lambda data: _inflate(binary(data), 31),
    "zip": lambda data: _deflate(binary(data), -15),
    "unzip": lambda data: _inflate(binary(data), -15),
    "zip_compress": lambda data: _deflate(binary(data), 15),
    "zip_uncompress": lambda data: _inflate(binary(data), 15),
    "base64_encode": lambda data: base64.b64encode(binary(data)).decode(),
    "base64_decode": base64_decode,
    "json_encode": json_text,
    "json_decode": json_decode,
    "bin2hexstr": bin2hexstr,
    "hexstr2bin": hexstr2bin,
    "sqlserver_bin2hexstr": lambda data: bin2hexstr(data, "0x"),
    "bitsize": lambda data: len(binary(data)) * 8,
    "bytesize": lambda data: len(binary(data)),
    "subbits": subbits,
}
