"""Password and token authentication, like EMQX's: a chain of authenticators on
``client.authenticate`` (``chain``), the built-in database (``builtin_db``), an HTTP service
(``http``) and JWT (``jwt_token``)."""
