"""Dialect-neutral management operations. Every API dialect (v5, v4, v3, v2) calls these; none
of them knows about HTTP, and a dialect's quirks stay in the dialect."""
