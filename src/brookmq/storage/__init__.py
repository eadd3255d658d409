"""Stores: the implementations of the core's store ports (SQLite by default, memory for tests)."""
