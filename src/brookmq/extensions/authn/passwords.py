"""EMQX's password hashing: plain, md5, sha, sha256, sha512 (salted as prefix or suffix, or not),
bcrypt and pbkdf2; compared in constant time. The slow ones run off the event loop in
``HASHING``, a small thread pool with a bound on what may wait for it."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import os
import secrets
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Literal, TypeVar

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

    def hash(self, password: str, salt: str | bytes) -> str:
        """``salt`` as text, or as bytes (EMQX 4's 4-byte salts, which are not text)."""
        data = password.encode()
        raw_salt = salt if isinstance(salt, bytes) else salt.encode()
        if self.name == "plain":
            return password
        if self.name == "bcrypt":
            # bcrypt reads 72 bytes; longer passwords are cut there, as EMQX's bcrypt and every
            # classic implementation do, so hashes carried over from EMQX keep matching.
            return bcrypt.hashpw(data[:72], raw_salt).decode()
        if self.name == "pbkdf2":
            mac = "sha1" if self.mac_fun == "sha" else self.mac_fun
            return hashlib.pbkdf2_hmac(mac, data, raw_salt, self.iterations, self.dk_length).hex()
        salted = {"prefix": raw_salt + data, "suffix": data + raw_salt}.get(self.salt_position, data)
        return hashlib.new(_DIGESTS[self.name], salted).hexdigest()

    @property
    def slow(self) -> bool:
        """Too slow for the event loop (tens of milliseconds a check)."""
        return self.name in ("bcrypt", "pbkdf2")

    def verify(self, password: str, salt: str | bytes, stored: str) -> bool:
        return hmac.compare_digest(self.hash(password, salt).encode(), stored.encode())


class HashingBusy(Exception):
    """More slow hashes are waiting than ``HashingPool.max_waiting``: refuse as a busy server."""


_T = TypeVar("_T")


class HashingPool:
    """Runs slow hashes in ``workers`` threads (bcrypt and hashlib's pbkdf2 release the GIL; one
    core is left to the event loop),
    so a storm of wrong passwords costs CPU but never stalls the loop; past ``max_waiting``
    callers waiting, ``HashingBusy`` at once rather than an ever longer queue."""

    def __init__(self, workers: int = max(1, (os.cpu_count() or 2) - 1), max_waiting: int = 256) -> None:
        self.workers = workers
        self.max_waiting = max_waiting
        self.waiting = 0
        self._executor: ThreadPoolExecutor | None = None

    async def run(self, fn: Callable[..., _T], *args: object) -> _T:
        if self.waiting >= self.max_waiting:
            raise HashingBusy("too many password checks waiting")
        if self._executor is None:
            self._executor = ThreadPoolExecutor(self.workers, thread_name_prefix="brookmq-hash")
        self.waiting += 1
        try:
            return await asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)
        finally:
            self.waiting -= 1

    async def verify(self, algorithm: PasswordHash, password: str, salt: str | bytes, stored: str) -> bool:
        if not algorithm.slow:
            return algorithm.verify(password, salt, stored)
        return await self.run(algorithm.verify, password, salt, stored)

    async def hash(self, algorithm: PasswordHash, password: str, salt: str) -> str:
        if not algorithm.slow:
            return algorithm.hash(password, salt)
        return await self.run(algorithm.hash, password, salt)


HASHING = HashingPool()  # the process's one pool
