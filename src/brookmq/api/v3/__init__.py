"""``/api/v3``: EMQX 3.x's management API (seeds 000 and 001) on the legacy framework."""
