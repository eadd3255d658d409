"""``/rules``, ``/actions`` and ``/rule_events`` in EMQX 4.4's shapes (reference 2.2): the
built-in actions are ``republish``, ``inspect`` and ``do_nothing``; ``POST /rules?test=true``
with ``{rawsql, ctx}`` runs the SQL on ``ctx``."""

from __future__ import annotations

from brookmq.api.legacy.rules import Naming, rule_routes

ROUTES = rule_routes(Naming())
