"""EMQX's password hashing: plain, md5, sha, sha256, sha512 (salted as prefix or suffix, or not),
bcrypt and pbkdf2; compared in constant time."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Literal

import bcrypt

HashName = Literal["plain", "md5", "sha", "sha256", "sha512", "bcrypt", "pbkdf2"]
_DIGESTS = {"md5": "md5", "sha": "sha1", "sha256": "sha256", "sha512": "sha512"}


@dataclass(frozen=True, slots=True)
class PasswordHash:
    """EMQX's ``password_hash_algorithm``."""

    name: HashName = "sha256"
    salt_position: Literal["prefix", "suffix", "disable"] = "prefix"
    salt_rounds: int = 10  # bcrypt
    mac_fun: Literal["md5", "sha", "sha224", "sha256", "sha384", "sha512"] = "sha256"  # pbkdf2
    iterations: int = 4096  # pbkdf2
    dk_length: int | None = None  # pbkdf2; None: the digest's size

    def __post_init__(self) -> None:
        if not 5 <= self.salt_rounds <= 10:
            raise ValueError("salt_rounds: must be 5..10")
        if self.iterations < 1:
            raise ValueError("iterations: must be positive")

    def new_salt(self) -> str:
        if self.name == "bcrypt":
            return bcrypt.gensalt(self.salt_rounds).decode()
        if self.name == "plain" or (self.name in _DIGESTS and self.salt_position == "disable"):
            return ""
        return secrets.token_hex(16)

    def hash(self, password: str, salt: str) -> str:
        data = password.encode()
        if self.name == "plain":
            return password
        if self.name == "bcrypt":
            return bcrypt.hashpw(data, salt.encode()).decode()
        if self.name == "pbkdf2":
            mac = "sha1" if self.mac_fun == "sha" else self.mac_fun
            return hashlib.pbkdf2_hmac(mac, data, salt.encode(), self.iterations, self.dk_length).hex()
        salted = {"prefix": salt.encode() + data, "suffix": data + salt.encode()}.get(
            self.salt_position, data
        )
        return hashlib.new(_DIGESTS[self.name], salted).hexdigest()

    def verify(self, password: str, salt: str, stored: str) -> bool:
        return hmac.compare_digest(self.hash(password, salt).encode(), stored.encode())
