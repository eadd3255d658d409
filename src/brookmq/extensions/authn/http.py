"""The HTTP authenticator (``password_based:http``), like EMQX's.

At CONNECT it sends a request built from templates (``${clientid}``, ``${username}``,
``${password}``, ``${peerhost}``, ...) to a configured URL: ``post`` with the body as JSON (or
as a form when the ``content-type`` header says so), ``get`` with the body as the query string.
The reply decides:

* 200 with JSON ``{"result": "allow" | "deny" | "ignore", "is_superuser": bool}``; 204 allows;
* any other status is ``ignore``: the next authenticator is asked (EMQX's rule);
* no answer within ``request_timeout``, a refused connection or a reply that is not such JSON
  denies: a server that cannot be asked never lets anyone in.

Requests go through one pooled aiohttp session (``pool_size`` connections, kept alive). Values are
escaped for where they land: JSON and form encoding for bodies, percent-encoding in the URL,
control characters percent-encoded in headers.
"""

from __future__ import annotations

import json
import logging
from typing import Any, Literal
from urllib.parse import quote

import aiohttp

from brookmq.extensions import placeholders
from brookmq.extensions.authn.chain import Authenticator

log = logging.getLogger("brookmq.authn.http")
FORM = "application/x-www-form-urlencoded"


class HttpAuthenticator(Authenticator):
    id = "password_based:http"

    def __init__(
        self,
        url: str,
        method: Literal["post", "get"] = "post",
        headers: dict[str, str] | None = None,
        body: dict[str, str] | None = None,
        request_timeout: float = 5.0,
        pool_size: int = 8,
        verify: bool = True,
    ) -> None:
        super().__init__()
        self.url = url
        self.method = method
        self.headers = {k.lower(): v for k, v in (headers or {}).items()}
        if method == "post":
            self.headers.setdefault("content-type", "application/json")
        self.body = body if body is not None else {"username": "${username}", "password": "${password}"}
        placeholders.check_all(self.headers, "headers")
        placeholders.check_all(self.body, "body")
        placeholders.check(url, "url")
        if not url.startswith(("http://", "https://")):
            raise ValueError("url: must start with http:// or https://")
        self.request_timeout = request_timeout
        self.pool_size = pool_size
        self.verify = verify
        self._client: aiohttp.ClientSession | None = None

    def _http(self) -> aiohttp.ClientSession:
        """aiohttp's session, made on the first request (it needs the running loop)."""
        if self._client is None:
            self._client = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=self.request_timeout),
                connector=aiohttp.TCPConnector(limit=self.pool_size, ssl=self.verify),
            )
        return self._client

    async def close(self) -> None:
        if self._client is not None:
            await self._client.close()
            self._client = None

    def authenticate(self, client: Any, password: bytes | None) -> Any:
        return self._ask(client, placeholders.client_values(client, password))

    async def _ask(self, client: Any, values: dict[str, str]) -> bool | None:
        url = placeholders.render(self.url, values, lambda v: quote(v, safe=""))
        headers = {
            k: placeholders.render(v, values, placeholders.escape_control) for k, v in self.headers.items()
        }
        fields = {k: placeholders.render(str(v), values) for k, v in self.body.items()}
        if self.method == "get":
            request = self._http().get(url, params=fields, headers=headers)
        elif headers["content-type"].startswith(FORM):
            request = self._http().post(url, data=fields, headers=headers)
        else:
            request = self._http().post(url, data=json.dumps(fields), headers=headers)
        try:
            async with request as reply:
                status, content = reply.status, await reply.read()
        except (aiohttp.ClientError, TimeoutError) as exc:
            log.warning("authentication server %s failed: %r; denying %r", self.url, exc, client.client_id)
            return False
        if status == 204:
            return True
        if status != 200:
            return None
        try:
            answer = json.loads(content)
            result = answer["result"]
        except (ValueError, KeyError, TypeError):
            log.warning("authentication server %s gave no result; denying %r", self.url, client.client_id)
            return False
        if result == "allow":
            client.is_superuser = answer.get("is_superuser") is True
            return True
        if result == "ignore":
            return None
        return False
