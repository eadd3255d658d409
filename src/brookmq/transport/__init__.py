"""Listeners: they accept connections and hand each byte stream to a core Connection."""
