"""``/api/v2``: EMQ 2.3's management API (seed 002) on the legacy framework."""
