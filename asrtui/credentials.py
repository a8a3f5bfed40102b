"""Credentials as a value: an AccessKey pair and optional STS token that never print a secret.

Each value goes into an HTTP header (``Authorization``, ``x-acs-security-token``) or a signed
query, so it must be printable ASCII. A stray CR or LF (a file saved with Windows line endings,
a credential command that prints a newline inside the value), a NUL or any other control or
non-ASCII character would otherwise fail later, inside the HTTP library, with the value in its
message and looking like a network fault. `asrtui.profiles.model.check_credentials` refuses
such values where they are read, naming the field and where it came from, never the value.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

__all__ = [
    "Credentials",
    "RefreshingCredentials",
    "credential_value_problem",
    "mask_secret",
]

_CHARACTER_NAMES = {"\r": "a carriage return (CR)", "\n": "a line feed (LF)", "\x00": "a NUL"}


def mask_secret(value: str, keep: int = 4) -> str:
    """Show only the last ``keep`` characters of a secret (all stars when it is short)."""
    if len(value) <= keep * 2:
        return "*" * len(value)
    return "*" * (len(value) - keep) + value[-keep:]


def _kind(char: str) -> str:
    code = ord(char)
    if code < 0x20 or 0x7F <= code <= 0x9F:
        return _CHARACTER_NAMES.get(char, f"a control character (U+{code:04X})")
    return "a non-ASCII character"


def _allowed(char: str) -> bool:
    return " " <= char <= "~"


def credential_value_problem(value: str) -> str | None:
    """Why ``value`` cannot be sent as a credential, or None: the answer never quotes it.

    Allowed is printable ASCII (space to ``~``). A control character (C0, DEL, C1) or a
    non-ASCII character is named by kind and place (``ends with a carriage return (CR) and a
    line feed (LF)``), which is what the user needs to find it, and says nothing of the value.
    """
    for index, char in enumerate(value):
        if _allowed(char):
            continue
        rest = value[index:]
        if index > 0 and not any(_allowed(c) for c in rest):
            kinds = list(dict.fromkeys(_kind(c) for c in rest))
            return "ends with " + " and ".join(kinds)
        return ("starts with " if index == 0 else "holds ") + _kind(char)
    return None


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
