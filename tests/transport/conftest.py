from __future__ import annotations

# Every default listener on a free loopback port, so tests never collide with anything.
LOOPBACK_LISTENERS = {
    **{f"BROOKMQ_LISTENERS__{kind}__DEFAULT__BIND": "127.0.0.1:0" for kind in ("TCP", "SSL", "WS", "WSS")},
    "BROOKMQ_DASHBOARD__LISTENERS__HTTP__BIND": "127.0.0.1:0",
    "BROOKMQ_MANAGEMENT__LISTENERS__HTTP__BIND": "127.0.0.1:0",
}
