"""minirest, the framework EMQX 3.x and 4.x serve their management API with: shared by
``/api/v4``, ``/api/v3`` and ``/api/v2``."""
