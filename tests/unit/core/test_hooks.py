from __future__ import annotations

import logging

from brookmq.core.hooks import HOOK_POINTS, Hook, Hooks, method_name


def test_every_hook_point_has_a_default_method() -> None:
    for point in HOOK_POINTS:
        assert callable(getattr(Hook, method_name(point)))


def test_only_overridden_methods_are_dispatched() -> None:
    class OnlyPublish(Hook):
        def message_publish(self, message):
            return message

    hooks = Hooks()
    hooks.add(OnlyPublish())
    assert len(hooks.listeners("message.publish")) == 1
    assert hooks.listeners("client.connected") == []


def test_decide_first_verdict_wins_by_priority() -> None:
    class Abstain(Hook):
        def client_authorize(self, client, action, topic, qos, retain):
            return None

    class Deny(Hook):
        def client_authorize(self, client, action, topic, qos, retain):
            return False

    class Allow(Hook):
        def client_authorize(self, client, action, topic, qos, retain):
            return True

    hooks = Hooks()
    hooks.add(Allow(), priority=0)
    hooks.add(Deny(), priority=5)
    hooks.add(Abstain(), priority=10)
    assert Hooks.decide(hooks.listeners("client.authorize"), None, "publish", "t", 0, False) is False


def test_transform_folds_and_none_stops() -> None:
    class Upper(Hook):
        def message_publish(self, message):
            return message.upper()

    class Drop(Hook):
        def message_publish(self, message):
            return None if message == "DROP" else message + "!"

    hooks = Hooks()
    hooks.add(Upper(), priority=1)
    hooks.add(Drop())
    fns = hooks.listeners("message.publish")
    assert Hooks.fold(fns, "hi") == "HI!"
    assert Hooks.fold(fns, "drop") is None


def test_notify_runs_all_and_logs_errors(caplog) -> None:
    calls = []

    class Bad(Hook):
        def client_connected(self, client):
            raise RuntimeError("boom")

    class Good(Hook):
        def client_connected(self, client):
            calls.append(client)

    hooks = Hooks()
    hooks.add(Bad(), priority=1)
    hooks.add(Good())
    with caplog.at_level(logging.ERROR):
        Hooks.notify(hooks.listeners("client.connected"), "c1")
    assert calls == ["c1"] and "boom" in caplog.text


def test_removed_hook_is_no_longer_called() -> None:
    class H(Hook):
        def client_connected(self, client):
            pass

    hooks = Hooks()
    h = H()
    hooks.add(h)
    hooks.remove(h)
    assert hooks.listeners("client.connected") == []
