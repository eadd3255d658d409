"""The config file and the environment win over an older change made through the API (as in
EMQX 5), and the start-up log says which layer set each key."""

from __future__ import annotations

from tests.api.v5.conftest import restart


def test_the_environment_wins_over_a_kept_api_change_and_the_log_says_so(api_node, api):
    assert api.put("/configs/mqtt", json={"max_inflight": 20, "max_awaiting_rel": 50}).status_code == 200
    api_node.env["BROOKMQ_MQTT__MAX_INFLIGHT"] = "8"
    restart(api_node)
    try:
        mqtt = api.get("/configs/mqtt").json()
        assert mqtt["max_inflight"] == 8  # the environment's
        assert mqtt["max_awaiting_rel"] == 50  # the API's: nothing else sets it
    finally:
        del api_node.env["BROOKMQ_MQTT__MAX_INFLIGHT"]
        logged = restart(api_node)
    assert "mqtt.max_inflight: the environment (BROOKMQ_MQTT__MAX_INFLIGHT) wins" in logged
    assert "mqtt.max_awaiting_rel: set through the API" in logged
    assert api.get("/configs/mqtt").json()["max_inflight"] == 20  # kept for when nothing sets it
    api.post("/configs_reset/mqtt")
