"""Credentials as a value: an AccessKey pair and optional STS token that never print a secret."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable


def mask_secret(value: str, keep: int = 4) -> str:
    """Show only the last ``keep`` characters of a secret (all stars when it is short)."""
    if len(value) <= keep * 2:
        return "*" * len(value)
    return "*" * (len(value) - keep) + value[-keep:]


@dataclass(frozen=True)
class Credentials:
    """An AccessKey id and secret, with an STS security token for temporary keys.

    The secret and the token are excluded from ``repr`` so that a traceback, a log line or a
    debugger never shows them; use the attributes explicitly where a signature needs them.
    """

    access_key_id: str
    access_key_secret: str = field(repr=False)
    security_token: str = field(default="", repr=False)

    def __repr__(self) -> str:
        token = ", security_token=<set>" if self.security_token else ""
        key_id = self.access_key_id
        return f"Credentials(access_key_id={key_id!r}, access_key_secret=<hidden>{token})"

    @property
    def is_sts(self) -> bool:
        """Whether these are temporary (STS) credentials."""
        return bool(self.security_token)


@runtime_checkable
class RefreshingCredentials(Protocol):
    """A credentials provider whose call is slow when a refresh is due (it runs a command).

    The client asks `is_due` (cheap) before a send and, when it says yes, calls the provider in
    a worker thread: a credential command can take seconds, and on the event loop it would
    freeze the console for all that time.
    """

    def __call__(self) -> Credentials:
        """The current credentials, refreshed first when due."""
        ...

    def is_due(self) -> bool:
        """Whether the next call has to refresh (slow) rather than answer from its cache."""
        ...
