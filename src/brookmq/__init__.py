"""BrookMQ: an MQTT 3.1 / 3.1.1 / 5.0 broker in Python with the EMQX management API."""

__version__ = "0.1.0"
