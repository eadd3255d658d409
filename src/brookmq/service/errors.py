"""What a management operation can refuse with. Each dialect maps these to its own status and
code; the message is meant for people and names the field or the object."""

from __future__ import annotations


class ServiceError(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(ServiceError):
    """The object does not exist; ``kind`` says what it is (``client``, ``topic``, ...) for the
    dialects that have a code per kind."""

    def __init__(self, message: str, kind: str = "") -> None:
        super().__init__(message)
        self.kind = kind


class AlreadyExists(ServiceError):
    """An object with that identity exists."""


class Invalid(ServiceError):
    """The request itself is wrong; the message starts with the ``field`` it is about, if any."""

    def __init__(self, message: str, field: str = "") -> None:
        super().__init__(f"{field}: {message}" if field else message)
        self.field = field


class UpdateFailed(ServiceError):
    """A settings change that cannot be used; the message names the key."""


class NotAllowed(ServiceError):
    """Well-formed, but not allowed (deleting the default admin, oneself, ...)."""


class BadCredentials(ServiceError):
    """A login, token or key that does not check out; ``kind`` says which way."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind  # bad_password | locked | bad_token | token_expired | bad_key
