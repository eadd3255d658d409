"""The broker domain: sessions, routing, retained messages, QoS flows, hooks, metrics."""
