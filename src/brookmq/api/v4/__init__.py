"""``/api/v4``: EMQX 4.x's management API as a route table over the service layer."""
