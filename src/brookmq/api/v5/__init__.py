"""EMQX's native ``/api/v5`` dialect: status codes, error bodies and field names as EMQX 5.8."""
