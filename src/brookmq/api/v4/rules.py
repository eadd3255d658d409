"""``/rules``, ``/actions`` and ``/rule_events`` in EMQX 4.4's shapes (reference 2.2): the
built-in actions are ``republish``, ``inspect`` and ``do_nothing``; ``POST /rules?test=true``
with ``{rawsql, ctx}`` runs the SQL on ``ctx``; ``/resources`` and ``/resource_types`` are the
v5 connectors (``web_hook``: http, ``bridge_mqtt``: mqtt), and a rule's ``data_to_webserver`` /
``data_to_mqtt_broker`` action is a v5 action made for it."""

from __future__ import annotations

from brookmq.api.legacy.plugins import PluginDialect, plugin_routes
from brookmq.api.legacy.resources import resource_routes
from brookmq.api.legacy.rules import Naming, rule_routes

ROUTES = [*rule_routes(Naming()), *resource_routes(), *plugin_routes(PluginDialect(), cluster_verbs=True)]
