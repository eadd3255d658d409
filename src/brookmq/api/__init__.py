"""The management REST API: one ASGI app per dialect over the service layer (``v5`` today)."""
