"""Credentials as a value: an AccessKey pair and optional STS token that never print a secret.

Each value goes into an HTTP header (``Authorization``, ``x-acs-security-token``) or a signed
query, so it must be printable ASCII. A stray CR or LF (a file saved with Windows line endings,
a credential command that prints a newline inside the value), a NUL or any other control or
non-ASCII character would otherwise fail later, inside the HTTP library, with the value in its
message and looking like a network fault. `check_credentials` refuses such values where they
are read (a profile, the environment, a command's output, an STS answer), naming the field and
where it came from, never the value.

This module is the bottom of the package: plain values and rules, no I/O, so that the signer,
the profile store and the console can use them without the providers' network stack.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import PurePath
from urllib.parse import SplitResult, urlsplit

from asrtui.errors import CredentialsError

__all__ = [
    "Credentials",
    "check_credentials",
    "command_program",
    "credential_value_problem",
    "http_uri_parts",
    "mask_secret",
]


def http_uri_parts(uri: str) -> SplitResult | None:
    """The parts of an ``http(s)://`` URI with a host and a valid port, else ``None``.

    A credentials URI is checked twice, when a profile stores it and when a provider is built
    from it (the environment's too): both must accept the same URIs.
    """
    try:
        parts = urlsplit(uri)
        parts.port  # noqa: B018 (raises on a bad port)
    except ValueError:
        return None
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        return None
    return parts


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


def command_program(command: str) -> str:
    """The program name of a credential command: the only part of it quoted anywhere.

    The arguments may hold secrets (``--password=...``); a command that does not parse is
    named by its first word. The one rule for the profile listing, the provider's errors and
    its ``repr``.
    """
    import shlex  # loaded with the first credential command (start-up time)

    try:
        argv = shlex.split(command)
    except ValueError:
        argv = command.split()
    return PurePath(argv[0]).name if argv else ""


#: Each attribute checked by `check_credentials`, with how a message names it.
_CHECKED = (
    ("access_key_id", "AccessKey id"),
    ("access_key_secret", "AccessKey secret"),
    ("security_token", "STS token"),
)


def check_credentials(
    credentials: Credentials, *, source: str, names: Mapping[str, str] | None = None
) -> Credentials:
    """Return ``credentials`` if every value can be sent, else raise `CredentialsError`.

    Args:
        credentials: the values as read.
        source: where they were read, for the message (``profile 'prod' in /path/...``,
            ``the environment``, ``credential command 'aliyun' of profile 'x'``).
        names: how the source calls each attribute (an environment variable, a JSON key),
            by attribute name; the attribute names by default.

    Raises:
        CredentialsError: a value holds a control or non-ASCII character; the message names the
            field and the source, never the value. A configuration error: it is not retried.
    """
    for attribute, label in _CHECKED:
        problem = credential_value_problem(getattr(credentials, attribute))
        if problem is None:
            continue
        name = (names or {}).get(attribute, attribute)
        raise CredentialsError(
            f"The {label} ({name}) from {source} {problem}; it cannot be sent in a request",
            "set it again without that character: a file saved with Windows line endings "
            "(CRLF), or a command that prints a line break inside the value, is the usual cause",
        )
    return credentials
