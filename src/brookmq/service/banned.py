"""Banned clients as the management API lists and changes them (the bans themselves live in
:mod:`brookmq.extensions.banned`)."""

from __future__ import annotations

import ipaddress
import json
import re
from typing import Any

from brookmq.extensions.banned import KINDS, AlreadyBanned, Ban, BanError, Banned
from brookmq.service.errors import AlreadyExists, Invalid, NotFound
from brookmq.service.paging import Page, page_of

EXACT_FILTERS = ("clientid", "username", "peerhost")
# like_<key>: a regular expression searched in the ``who`` of these kinds of ban
LIKE_FILTERS = {
    "like_clientid": ("clientid", "clientid_re"),
    "like_username": ("username", "username_re"),
    "like_peerhost": ("peerhost",),
    "like_peerhost_net": ("peerhost_net",),
}


def ban_info(ban: Ban) -> dict[str, Any]:
    """``{as, who, by, reason, at, until}``, times in epoch seconds (``until`` None: forever)."""
    return {
        "as": ban.kind,
        "who": ban.who,
        "by": ban.by,
        "reason": ban.reason,
        "at": ban.at,
        "until": ban.until or None,
    }


def _normalized(kind: str, who: str) -> str:
    """``who`` as a ban of ``kind`` keeps it: a CIDR in its network form (``10.0.0.0/8``)."""
    if kind not in KINDS:
        raise Invalid(f"must be one of {', '.join(KINDS)}", "as")
    if kind != "peerhost_net":
        return who
    try:
        return str(ipaddress.ip_network(who, strict=False))
    except ValueError:
        raise Invalid(f"bad CIDR {who!r}", "who") from None


class Bans:
    def __init__(self, banned: Banned) -> None:
        self.banned = banned

    def find(self, filters: dict[str, str | None], page: int, limit: int) -> Page:
        """At most one filter: an exact one (``count`` given) or a ``like_`` regular expression."""
        given = {k: v for k, v in filters.items() if v is not None}
        if len(given) > 1:
            raise Invalid("too_many_filters")
        entries = self.banned.entries()
        if not given:
            return page_of((ban_info(b) for b in entries), page, limit, len(entries))
        ((key, value),) = given.items()
        if key in EXACT_FILTERS:
            rows = [ban_info(b) for b in entries if b.kind == key and b.who == value]
            return page_of(iter(rows), page, limit, len(rows))
        try:
            pattern = re.compile(value)
        except re.error as exc:
            raise Invalid(
                json.dumps(
                    {
                        "message": "The filter is not a validation regex expression",
                        "reason": exc.msg,
                        "position": exc.pos,
                        "filter": value,
                    }
                )
            ) from None
        kinds = LIKE_FILTERS[key]
        return page_of(
            (ban_info(b) for b in entries if b.kind in kinds and pattern.search(b.who)), page, limit
        )

    def create(
        self, kind: str, who: str, by: str, reason: str, at: float | None, until: float | None
    ) -> dict[str, Any]:
        who = _normalized(kind, who)
        try:
            return ban_info(self.banned.add(kind, who, by, reason, at, until or 0.0))
        except AlreadyBanned as exc:
            raise AlreadyExists(json.dumps(ban_info(exc.existing))) from None
        except BanError as exc:
            raise Invalid(str(exc)) from None

    def delete(self, kind: str, who: str) -> None:
        who = _normalized(kind, who)
        if not self.banned.delete(kind, who):
            raise NotFound(f"{kind}: {who} not found")

    def clear(self) -> None:
        self.banned.clear()

    def all(self) -> list[dict[str, Any]]:
        return [ban_info(ban) for ban in self.banned.entries()]
