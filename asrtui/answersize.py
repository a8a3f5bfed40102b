"""How large an answer the client accepts: the setting, where it comes from, and its message.

A `QueryRtcAsrTasks` answer grows with the account's running tasks, about 500 bytes each in
the documented shape (more in the map-of-JSON-strings shape, whose quotes are escaped): 200,000
tasks are some 100-130 MiB. The client reads an answer into memory, so some limit keeps a
wrong endpoint (a file server, a proxy's error page without end) from filling it; the limit
must still let every realistic account through, and one that is too small for an account
must say how big the answer was and what raises it.

Three places set it, the first found winning, as for the other settings:

- the ``--max-answer-mb`` option (`OPTION`);
- the ``ASRTUI_MAX_ANSWER_MB`` environment variable (`ENV_VAR`);
- the ``max_answer_mb`` setting of the profile in use (`PROFILE_KEY`);

and `DEFAULT_MAX_ANSWER_MB` otherwise. Values are whole MiB (1,048,576 bytes) from
`MIN_MAX_ANSWER_MB` to `MAX_MAX_ANSWER_MB`.
"""

from __future__ import annotations

from collections.abc import Mapping

from asrtui.errors import ConfigError
from asrtui.printable import printable_line

__all__ = [
    "DEFAULT_MAX_ANSWER_MB",
    "ENV_VAR",
    "MAX_MAX_ANSWER_MB",
    "MIB",
    "MIN_MAX_ANSWER_MB",
    "OPTION",
    "PROFILE_KEY",
    "max_answer_mb_of",
    "parse_max_answer_mb",
    "size_text",
    "too_big_hint",
    "validate_max_answer_mb",
]

MIB = 1024 * 1024
#: Room for some 400,000 tasks in the documented shape, twice the 200,000 it is sized for.
DEFAULT_MAX_ANSWER_MB = 256
MIN_MAX_ANSWER_MB = 1
#: Above this a single answer would not fit the memory of the machines the console runs on.
MAX_MAX_ANSWER_MB = 8192

OPTION = "--max-answer-mb"
ENV_VAR = "ASRTUI_MAX_ANSWER_MB"
PROFILE_KEY = "max_answer_mb"

_RANGE = f"a whole number of MiB from {MIN_MAX_ANSWER_MB} to {MAX_MAX_ANSWER_MB}"


def validate_max_answer_mb(value: int) -> int:
    """Return ``value`` if it is a whole number of MiB in range, else raise `ConfigError`."""
    if (
        isinstance(value, bool)
        or not isinstance(value, int)
        or not MIN_MAX_ANSWER_MB <= value <= MAX_MAX_ANSWER_MB
    ):
        raise ConfigError(
            f"Invalid answer size limit {value!r}",
            f"use {_RANGE} (default {DEFAULT_MAX_ANSWER_MB})",
        )
    return value


def parse_max_answer_mb(text: str, source: str) -> int:
    """The limit written as ``text`` in ``source`` (an option or variable name), in MiB.

    Raises:
        ConfigError: not a whole number in range; the message names ``source``.
    """
    stripped = text.strip()
    shown = printable_line(stripped if len(stripped) <= 40 else stripped[:40] + "...")
    try:
        value = int(stripped, 10)
    except ValueError:
        value = None
    if value is None or not MIN_MAX_ANSWER_MB <= value <= MAX_MAX_ANSWER_MB:
        raise ConfigError(
            f"Invalid {source} value {shown!r}",
            f"use {_RANGE} (default {DEFAULT_MAX_ANSWER_MB})",
        )
    return value


def max_answer_mb_of(
    *, option: int | None, env: Mapping[str, str], profile: int | None = None
) -> int:
    """The limit in MiB: the option, else `ENV_VAR` (when set and not empty), else the profile.

    Raises:
        ConfigError: `ENV_VAR` holds something that is not a limit.
    """
    if option is not None:
        return validate_max_answer_mb(option)
    raw = env.get(ENV_VAR, "")
    if raw.strip():
        return parse_max_answer_mb(raw, ENV_VAR)
    if profile is not None:
        return validate_max_answer_mb(profile)
    return DEFAULT_MAX_ANSWER_MB


def size_text(size: int) -> str:
    """``size`` bytes as people read an answer's size: ``"37.2 MiB"``, ``"9.8 KiB"``."""
    if size >= MIB:
        return f"{size / MIB:.1f} MiB"
    if size >= 1024:
        return f"{size / 1024:.1f} KiB"
    return f"{size} bytes"


def too_big_hint(size: int | None, limit: int) -> str:
    """What to do about an answer of ``size`` bytes (``None``: unknown) above ``limit`` bytes.

    Suggests a limit with a quarter to spare above the size seen (twice the limit when the
    size is not known), so the next answer of a growing account fits too.
    """
    seen = size if size is not None and size > limit else 2 * limit
    wanted = min(max(-(-seen * 5 // (4 * MIB)), MIN_MAX_ANSWER_MB), MAX_MAX_ANSWER_MB)
    return (
        f"if the account really runs that many tasks, raise the limit: {OPTION} {wanted} "
        f"(or {ENV_VAR}, or the profile's {PROFILE_KEY}); otherwise check --endpoint, "
        "it may not be the Live API"
    )
