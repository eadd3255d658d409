"""Benchmarks: BrookMQ side by side with Mosquitto and amqtt (`make bench`)."""
