"""Sans-IO MQTT 3.1 / 3.1.1 / 5.0 protocol: packets, properties, codec, reader, topics.

Standard library only: no asyncio, no sockets.
"""
