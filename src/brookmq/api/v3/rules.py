"""``/rules/``, ``/actions/`` and ``/rule_events/`` in EMQX 3.x's shapes (seed 000): the
built-in actions are named ``built_in:republish_action``, ``built_in:inspect_action`` and
``built_in:do_nothing_action``, and a rule is not changed in place (no ``PUT``)."""

from __future__ import annotations

from brookmq.api.legacy.plugins import PluginDialect, config_routes, plugin_routes
from brookmq.api.legacy.resources import resource_routes
from brookmq.api.legacy.rules import Naming, rule_routes

_PLUGINS = PluginDialect(started_code=102, stopped_code=102)

ROUTES = [
    *rule_routes(Naming("built_in:", "_action"), slash="/", updates=False),
    *resource_routes(slash="/", updates=False),
    *plugin_routes(_PLUGINS, slash="/"),
    *config_routes(_PLUGINS),
]
