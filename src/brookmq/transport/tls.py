"""TLS as a stream layer: our own MemoryBIO protocol under the MQTT (or WebSocket) one.

asyncio's built-in TLS handles a failed handshake silently (no callback reaches
the application), so a listener could neither count nor log it. This layer
owns the handshake: failures are logged once at INFO and counted, a client
that never finishes it is closed after ``handshake_timeout``.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from collections.abc import Callable
from pathlib import Path
from typing import Any

from brookmq.transport.certs import default_certificates
from brookmq.transport.layer import LayerTransport, StreamLayer
from brookmq.transport.options import SslOptions

log = logging.getLogger("brookmq.tls")

_VERSIONS = {"tlsv1.2": ssl.TLSVersion.TLSv1_2, "tlsv1.3": ssl.TLSVersion.TLSv1_3}


def server_context(options: SslOptions, data_dir: str | Path) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    versions = sorted(_VERSIONS[v] for v in options.versions)
    ctx.minimum_version, ctx.maximum_version = versions[0], versions[-1]
    if options.certfile:
        ctx.load_cert_chain(options.certfile, options.keyfile)
    else:
        _, cert, key = default_certificates(data_dir)
        ctx.load_cert_chain(cert, key)
    if options.cacertfile:
        ctx.load_verify_locations(options.cacertfile)
    if options.verify == "verify_peer":
        ctx.verify_mode = ssl.CERT_REQUIRED if options.fail_if_no_peer_cert else ssl.CERT_OPTIONAL
    if options.ciphers:
        ctx.set_ciphers(options.ciphers)
    return ctx


class TlsTransport(LayerTransport):
    """What the upper protocol writes to: plaintext in, TLS records out."""

    _layer: TlsLayer

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self._layer.send(data)

    def close(self) -> None:
        self._layer.close()

    def is_closing(self) -> bool:
        return self._layer.raw is None or self._layer.raw.is_closing()

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return self._layer.extra(name, default)


class TlsLayer(StreamLayer):
    def __init__(
        self,
        context: ssl.SSLContext,
        upper: Callable[[], asyncio.Protocol],
        timeout: float,
        on_failure: Callable[[str], None],
        handshaking: set[StreamLayer] | None = None,
    ) -> None:
        super().__init__(upper, timeout, handshaking)
        self._on_failure = on_failure
        self._incoming = ssl.MemoryBIO()
        self._outgoing = ssl.MemoryBIO()
        self._ssl = context.wrap_bio(self._incoming, self._outgoing, server_side=True)

    def data_received(self, data: bytes) -> None:
        self._incoming.write(data)
        if self.upper is None and not self._handshake():
            return
        chunks = []
        while True:
            try:
                chunk = self._ssl.read(262144)
            except ssl.SSLWantReadError:
                break
            except ssl.SSLZeroReturnError:  # close_notify from the client
                self._flush()
                self.close()
                break
            except ssl.SSLError as exc:
                self._fail(f"TLS error: {exc.reason or exc}")
                return
            if not chunk:
                break
            chunks.append(chunk)
        self._flush()
        if chunks and self.upper is not None:
            self.upper.data_received(b"".join(chunks))

    def _handshake(self) -> bool:
        try:
            self._ssl.do_handshake()
        except ssl.SSLWantReadError:
            self._flush()
            return False
        except (ssl.SSLError, ssl.CertificateError) as exc:
            self._flush()  # the alert, if any
            self._fail(f"TLS handshake failed: {getattr(exc, 'reason', None) or exc}")
            return False
        self._flush()
        self.start_upper(TlsTransport(self))
        return True

    def handshake_expired(self) -> None:
        self._fail("TLS handshake not finished in time")

    def _fail(self, why: str) -> None:
        peer = self.extra("peername")
        log.info("closing %s: %s", peer, why)
        self._on_failure(why)
        if self.raw is not None:
            self.raw.close()

    def send(self, data: bytes | bytearray | memoryview) -> None:
        if self.raw is None or self.raw.is_closing():
            return
        view = memoryview(data)
        while view:
            written = self._ssl.write(view)
            view = view[written:]
        self._flush()

    def _flush(self) -> None:
        if self._outgoing.pending and self.raw is not None and not self.raw.is_closing():
            self.raw.write(self._outgoing.read())

    def close(self) -> None:
        if self.raw is not None and not self.raw.is_closing():
            try:
                self._ssl.unwrap()
            except ssl.SSLError:
                pass
            self._flush()
            self.raw.close()

    def extra(self, name: str, default: Any = None) -> Any:
        if name == "peercert":
            return self._ssl.getpeercert()
        if name == "peercert_der":
            return self._ssl.getpeercert(binary_form=True)
        if name == "ssl_object":
            return self._ssl
        return self.raw.get_extra_info(name, default) if self.raw is not None else default
