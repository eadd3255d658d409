from __future__ import annotations

import subprocess
import sys

import pytest

from brookmq.config import ConfigError, load_settings


def test_defaults_are_emqx_defaults() -> None:
    s = load_settings(environ={})
    assert s.node.name == "brookmq@127.0.0.1"
    assert s.listeners.tcp["default"].address("tcp") == ("0.0.0.0", 1883)
    assert s.listeners.ssl["default"].address("ssl") == ("0.0.0.0", 8883)
    assert s.listeners.ws["default"].websocket.mqtt_path == "/mqtt"
    assert s.listeners.wss["default"].address("wss") == ("0.0.0.0", 8084)
    m = s.mqtt
    assert (m.max_packet_size, m.max_clientid_len, m.max_topic_levels) == (1048576, 65535, 128)
    assert (m.max_inflight, m.max_awaiting_rel, m.await_rel_timeout) == (32, 100, 300.0)
    assert (m.max_mqueue_len, m.mqueue_store_qos0, m.session_expiry_interval) == (1000, True, 7200.0)
    assert (m.keepalive_multiplier, m.idle_timeout, m.max_topic_alias) == (1.5, 15.0, 65535)
    assert m.shared_subscription_strategy == "round_robin"
    d = s.durability
    assert (d.enable, d.ack, d.flush_interval, d.batch_size, d.synchronous) == (
        True,
        "after_commit",
        0.01,
        10_000,
        "normal",
    )
    assert (s.delayed.enable, s.delayed.max_delayed_messages) == (True, 100_000)
    f = s.flapping_detect
    assert (f.enable, f.max_count, f.window_time, f.ban_time) == (False, 15, 60.0, 300.0)


def test_an_authentication_chain_from_the_environment() -> None:
    env = {
        "BROOKMQ_AUTHENTICATION": '[{user_id_type = "clientid", password_hash_algorithm {name = "pbkdf2"}}]'
    }
    [authenticator] = load_settings(environ=env).authentication
    assert (authenticator.backend, authenticator.user_id_type) == ("built_in_database", "clientid")
    assert authenticator.password_hash_algorithm.name == "pbkdf2"


def test_durations_of_the_store_take_units() -> None:
    s = load_settings(environ={"BROOKMQ_DURABILITY__FLUSH_INTERVAL": "50ms"})
    assert s.durability.flush_interval == pytest.approx(0.05)


def test_hocon_file_with_emqx_key_names(tmp_path) -> None:
    conf = tmp_path / "brookmq.conf"
    conf.write_text(
        """
        node.name = "edge@10.0.0.1"
        mqtt {
          max_packet_size = 2MB
          session_expiry_interval = 30m
          await_rel_timeout = "500ms"
          server_keepalive = 60
          shared_subscription_strategy = hash_topic
        }
        listeners.tcp.default.bind = "127.0.0.1:1999"
        listeners.tcp.internal { bind = 11883 }
        """
    )
    s = load_settings(conf, environ={})
    assert s.node.name == "edge@10.0.0.1"
    assert s.mqtt.max_packet_size == 2 * 1024 * 1024
    assert s.mqtt.session_expiry_interval == 1800
    assert s.mqtt.await_rel_timeout == 0.5
    assert s.mqtt.server_keepalive == 60
    assert s.mqtt.shared_subscription_strategy == "hash_topic"
    assert s.listeners.tcp["default"].address("tcp") == ("127.0.0.1", 1999)
    assert s.listeners.tcp["internal"].address("tcp") == ("0.0.0.0", 11883)


def test_environment_sets_lists_as_hocon_arrays() -> None:
    env = {"BROOKMQ_LISTENERS__SSL__DEFAULT__SSL_OPTIONS__VERSIONS": '["tlsv1.3"]'}
    assert load_settings(environ=env).listeners.ssl["default"].ssl_options.versions == ("tlsv1.3",)


def test_environment_overrides_the_file(tmp_path) -> None:
    conf = tmp_path / "brookmq.conf"
    conf.write_text("mqtt.max_inflight = 10\n")
    env = {"BROOKMQ_MQTT__MAX_INFLIGHT": "20", "BROOKMQ_NODE__NAME": "n@h", "OTHER": "x"}
    s = load_settings(conf, environ=env)
    assert s.mqtt.max_inflight == 20 and s.node.name == "n@h"


@pytest.mark.parametrize(
    ("env", "fragment"),
    [
        ({"BROOKMQ_MQTT__MAX_INFLIGHT": "lots"}, "mqtt.max_inflight"),
        ({"BROOKMQ_MQTT__MAX_QOS_ALLOWED": "3"}, "mqtt.max_qos_allowed: must be"),
        ({"BROOKMQ_LISTENERS__SSL__DEFAULT__SSL_OPTIONS__VERSIONS": '["tlsv1.0"]'}, "ssl_options.versions"),
        ({"BROOKMQ_MQTT__NO_SUCH_KEY": "1"}, "mqtt.no_such_key"),
        ({"BROOKMQ_MQTT__RETAIN_AVAILABLE": "perhaps"}, "mqtt.retain_available"),
        ({"BROOKMQ_LISTENERS__TCP__DEFAULT__BIND": "nowhere:port"}, "listeners.tcp.default.bind"),
        ({"BROOKMQ_MQTT__SHARED_SUBSCRIPTION_STRATEGY": "fair"}, "mqtt.shared_subscription_strategy"),
        ({"BROOKMQ_MQTT__MAX_PACKET_SIZE": "huge"}, "mqtt.max_packet_size"),
        ({"BROOKMQ_DURABILITY__ACK": "eventually"}, "durability.ack"),
        ({"BROOKMQ_DURABILITY__FLUSH_INTERVAL": "0ms"}, "durability.flush_interval"),
        ({"BROOKMQ_DURABILITY__SYNCHRONOUS": "off"}, "durability.synchronous"),
        ({"BROOKMQ_DELAYED__MAX_DELAYED_MESSAGES": "-1"}, "delayed.max_delayed_messages"),
        (
            {"BROOKMQ_AUTHENTICATION": "[{}, {mechanism = jwt}, {user_id_type = clientid}]"},
            "authentication.2",
        ),
        (
            {"BROOKMQ_AUTHENTICATION": '[{backend = http, url = "http://x/${user}"}]'},
            "url: unknown placeholder",
        ),
        (
            {"BROOKMQ_AUTHENTICATION": '[{mechanism = jwt, verify_claims {sub = "${user}"}}]'},
            "verify_claims.sub: unknown placeholder",
        ),
        (
            {"BROOKMQ_AUTHORIZATION__SOURCES": "[{type = file}, {type = file}]"},
            "authorization.sources: file is there twice",
        ),
        (
            {"BROOKMQ_AUTHORIZATION__SOURCES": '[{type = file, rules = "{allow, all, publish}."}]'},
            "line 1",
        ),
        (
            {"BROOKMQ_AUTHENTICATION": '[{backend = "ldap"}]'},
            "authentication.0: backend must be built_in_database or http",
        ),
        (
            {"BROOKMQ_AUTHENTICATION": '[{password_hash_algorithm {name = "bcrypt", salt_rounds = 20}}]'},
            "salt_rounds: must be 5..10",
        ),
    ],
)
def test_bad_values_name_the_key(env, fragment) -> None:
    with pytest.raises(ConfigError) as err:
        load_settings(environ=env)
    assert fragment in str(err.value)


def test_unparseable_file_is_a_config_error(tmp_path) -> None:
    conf = tmp_path / "bad.conf"
    conf.write_text("mqtt { max_inflight = \n")
    with pytest.raises(ConfigError):
        load_settings(conf, environ={})


def test_missing_file_is_a_config_error(tmp_path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(tmp_path / "nope.conf", environ={})


def test_start_refuses_a_bad_config_with_exit_2_and_the_key(tmp_path) -> None:
    conf = tmp_path / "brookmq.conf"
    conf.write_text("mqtt.max_inflight = many\n")
    result = subprocess.run(
        [sys.executable, "-m", "brookmq", "start", "--config", str(conf)],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2
    assert "mqtt.max_inflight" in result.stderr


def test_zones_override_mqtt_limits_for_the_listeners_that_name_them() -> None:
    env = {
        "BROOKMQ_MQTT__MAX_INFLIGHT": "10",
        "BROOKMQ_ZONES__EDGE__MQTT__MAX_PACKET_SIZE": "1KB",
        "BROOKMQ_ZONES__EDGE__MQTT__IDLE_TIMEOUT": "5s",
        "BROOKMQ_LISTENERS__TCP__EDGE__ZONE": "edge",
    }
    s = load_settings(environ=env)
    edge = s.zone_options()["edge"]
    assert (edge.max_packet_size, edge.idle_timeout, edge.max_inflight) == (1024, 5.0, 10)  # rest inherited
    assert s.mqtt.max_packet_size == 1048576
    assert s.listeners.tcp["edge"].zone == "edge"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"BROOKMQ_ZONES__Z__MQTT__MAX_PACKET_SIZE": "huge"}, "zones.z.mqtt.max_packet_size:"),
        ({"BROOKMQ_ZONES__Z__MQTT__NOPE": "1"}, "zones.z.mqtt.nope: is not an mqtt setting"),
        ({"BROOKMQ_ZONES__Z__MQTT__MAX_QOS_ALLOWED": "7"}, "zones.z.mqtt.max_qos_allowed: must be"),
        ({"BROOKMQ_LISTENERS__TCP__X__ZONE": "nope"}, "listeners.tcp.x.zone: 'nope' is not in zones"),
    ],
)
def test_zone_errors_name_the_key(env, message) -> None:
    with pytest.raises(ConfigError) as err:
        load_settings(environ=env)
    assert message in str(err.value)
