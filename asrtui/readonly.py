"""Read-only mode: whether stop, delete and every other change is refused, and because of what.

Three things make a session read-only, and any one is enough:

- the ``--read-only`` option (before or after the subcommand);
- the ``ASRTUI_READ_ONLY`` environment variable (`ENV_VAR`), for a team default that needs no
  shell alias: ``1``, ``true``, ``yes``, ``on`` mean read-only; ``0``, ``false``, ``no``,
  ``off`` or empty mean not (any case, surrounding spaces ignored); anything else is a usage
  error, because a typo in a safety switch must not silently turn it off;
- the ``read_only`` setting of the profile in use.

`ReadOnly` remembers which of them hold, so that a refusal names its actual cause and says how
to lift it. The refusal itself happens in `asrtui.client.LiveClient`, the one path every request
takes: any action that is not a query is refused there before a request is sent, whichever
command asked for it. The command line and the console also check earlier, so that nobody is
asked to confirm an action that would be refused.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from asrtui.errors import ConfigError, ReadOnlyError
from asrtui.printable import printable_line

__all__ = ["ENV_VAR", "WRITABLE", "ReadOnly", "env_read_only", "read_only_of"]

#: The environment variable that makes every session read-only.
ENV_VAR = "ASRTUI_READ_ONLY"

_TRUE_WORDS = frozenset({"1", "true", "yes", "on"})
_FALSE_WORDS = frozenset({"", "0", "false", "no", "off"})


def env_read_only(env: Mapping[str, str]) -> str:
    """The value of `ENV_VAR` when it asks for read-only mode, ``""`` when it does not.

    Raises:
        ConfigError: the variable holds a value that is neither a yes nor a no.
    """
    raw = env.get(ENV_VAR)
    if raw is None:
        return ""
    word = raw.strip().lower()
    if word in _TRUE_WORDS:
        return raw.strip()
    if word in _FALSE_WORDS:
        return ""
    shown = printable_line(raw if len(raw) <= 40 else raw[:40] + "...")
    raise ConfigError(
        f"Invalid {ENV_VAR} value {shown!r}",
        f"set {ENV_VAR} to 1, true, yes or on for read-only mode, or to 0, false, no, off or "
        "nothing (or unset it) for normal mode",
    )


@dataclass(frozen=True)
class ReadOnly:
    """Which of the three sources make the session read-only; false when none does.

    Attributes:
        flag: the ``--read-only`` option was given.
        env_value: the value of `ENV_VAR` when it asks for read-only mode, else ``""``.
        profile: the profile whose ``read_only`` setting is true, else ``""``.
    """

    flag: bool = False
    env_value: str = ""
    profile: str = ""

    def __bool__(self) -> bool:
        return self.flag or bool(self.env_value) or bool(self.profile)

    @property
    def because(self) -> str:
        """Why the session is read-only, completing "read-only because ..." (``""`` if not)."""
        causes = []
        if self.flag:
            causes.append("the --read-only option is given")
        if self.env_value:
            causes.append(f"{ENV_VAR}={printable_line(self.env_value)} is set")
        if self.profile:
            causes.append(f"profile '{self.profile}' is read-only (read_only = true)")
        return " and ".join(causes)

    @property
    def hint(self) -> str:
        """How to lift each cause that holds."""
        steps = []
        if self.flag:
            steps.append("run without --read-only")
        if self.env_value:
            steps.append(f"unset {ENV_VAR}")
        if self.profile:
            steps.append(
                f"use another profile, or set read_only = false for profile '{self.profile}'"
            )
        return "to act, " + " and ".join(steps) if steps else ""

    def refusal(self, what: str) -> ReadOnlyError:
        """The error refusing ``what`` (``stop task X``), naming the causes."""
        return ReadOnlyError(f"Refusing to {what}: read-only because {self.because}", self.hint)


#: A session nothing makes read-only.
WRITABLE = ReadOnly()


def read_only_of(
    *, flag: bool, env: Mapping[str, str], profile: str = "", profile_read_only: bool = False
) -> ReadOnly:
    """Combine the three sources into one `ReadOnly`.

    Raises:
        ConfigError: `ENV_VAR` holds an invalid value (see `env_read_only`).
    """
    return ReadOnly(
        flag=flag,
        env_value=env_read_only(env),
        profile=profile if profile_read_only else "",
    )
