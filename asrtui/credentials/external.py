"""Credentials from an external command (aliyun CLI ``External`` mode, ``credential_process``).

The command is split with `shlex.split` and run without a shell. Its stdout is one JSON object
in the aliyun CLI External format::

    {"mode": "StsToken", "access_key_id": "STS.x", "access_key_secret": "...",
     "sts_token": "...", "expiration": "2024-05-14T12:00:00Z"}

``mode`` is ``AK`` (a long-term pair) or ``StsToken`` (temporary, with ``sts_token``).
``expiration`` is optional: an ISO-8601 time (``Z`` or an offset; none means UTC) or seconds
since the epoch. The command runs when credentials are first needed and again 5 minutes before
they expire (or every 15 minutes when it does not say), in a worker thread and in the
background (`asrtui.credentials.refresh`), so a session of several hours keeps working while its
STS tokens rotate and the console never waits for the command while it has valid credentials.

Errors name the command's program only: its arguments, stdout and stderr may hold secrets.
"""

from __future__ import annotations

import asyncio
import json
import shlex
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from asrtui.credentials.refresh import (
    NO_EXPIRY_INTERVAL,
    REFRESH_MARGIN,
    Fetched,
    RefreshingProvider,
)
from asrtui.credentials.value import Credentials, check_credentials, command_program
from asrtui.errors import CredentialsError

__all__ = [
    "COMMAND_TIMEOUT",
    "NO_EXPIRY_INTERVAL",
    "REFRESH_MARGIN",
    "CommandResult",
    "ExternalCredentials",
    "Runner",
    "run_command",
]

#: Seconds the command may run before it is killed.
COMMAND_TIMEOUT = 30.0


@dataclass(frozen=True)
class CommandResult:
    """What a finished command left: its exit status and its stdout (never printed)."""

    returncode: int
    stdout: bytes = field(repr=False)


#: Runs ``argv`` with a timeout in seconds; raises `subprocess.TimeoutExpired` or `OSError`.
Runner = Callable[[Sequence[str], float], CommandResult]


def run_command(argv: Sequence[str], timeout: float) -> CommandResult:
    """Run ``argv`` without a shell, stdin closed, capturing stdout and discarding stderr.

    Stderr is discarded rather than shown: under the full-screen console it would garble the
    screen, and in an error message it could leak what the command printed.
    """
    completed = subprocess.run(
        list(argv),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        timeout=timeout,
        check=False,
    )
    return CommandResult(completed.returncode, completed.stdout)


def _utc_now() -> datetime:
    return datetime.now(UTC)


class ExternalCredentials(RefreshingProvider):
    """A credentials provider backed by an external command (mode ``External``).

    The command runs in a worker thread (it may take up to ``timeout``), at most one run at a
    time, refreshed in the background before expiry (`RefreshingProvider`).

    Args:
        command: the command line, split with `shlex.split` (no shell).
        clock: the wall clock (timezone-aware), compared with ``expiration``.
        runner: runs the command (tests pass a fake).
        timeout: seconds before the command is killed.
        profile: the profile name, quoted in error hints.
    """

    def __init__(
        self,
        command: str,
        *,
        clock: Callable[[], datetime] = _utc_now,
        runner: Runner = run_command,
        timeout: float = COMMAND_TIMEOUT,
        profile: str = "",
    ) -> None:
        try:
            self._argv = shlex.split(command)
        except ValueError:
            self._argv = []
        if not self._argv:
            raise CredentialsError("The credential command cannot be parsed", "check its quoting")
        self._program = command_program(command)
        self._command_clock = clock
        self._runner = runner
        self._timeout = timeout
        self._profile = profile
        where = f" of profile '{profile}'" if profile else ""
        super().__init__(
            self._fetch_in_thread,
            mode="External",
            source=f"credential command '{self._program}'{where}",
            clock=clock,
        )

    @property
    def program(self) -> str:
        """The command's program name: the only part of it quoted in errors."""
        return self._program

    def __repr__(self) -> str:
        return f"ExternalCredentials(program={self.program!r})"

    async def _fetch_in_thread(self) -> Fetched:
        return await asyncio.to_thread(self._fetch)

    def _error(self, what: str) -> CredentialsError:
        where = f" of profile '{self._profile}'" if self._profile else ""
        return CredentialsError(
            f"Credential command '{self.program}'{where} {what}",
            "run the command yourself to see what it prints",
        )

    def _fetch(self) -> tuple[Credentials, datetime | None]:
        try:
            result = self._runner(self._argv, self._timeout)
        except subprocess.TimeoutExpired:
            raise self._error(f"did not finish within {self._timeout:g} s") from None
        except FileNotFoundError:
            raise self._error("was not found") from None
        except PermissionError:
            raise self._error("is not executable") from None
        except OSError as exc:
            raise self._error(f"could not start ({exc.strerror or type(exc).__name__})") from None
        if result.returncode != 0:
            raise self._error(f"failed with exit status {result.returncode}")
        try:
            data = json.loads(result.stdout)
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise self._error("did not print JSON") from None
        return self._parse(data)

    def _parse(self, data: object) -> tuple[Credentials, datetime | None]:
        if not isinstance(data, dict):
            raise self._error("did not print a JSON object")
        mode = data.get("mode", "AK")
        if mode not in {"AK", "StsToken"}:
            shown = mode if isinstance(mode, str) and len(mode) <= 32 else "?"
            raise self._error(f"printed mode {shown!r}; expected AK or StsToken")
        fields: dict[str, str] = {}
        for key in ("access_key_id", "access_key_secret", "sts_token"):
            value = data.get(key, "")
            if not isinstance(value, str):
                raise self._error(f"printed a non-string {key}")
            fields[key] = value
        if not fields["access_key_id"] or not fields["access_key_secret"]:
            raise self._error("printed no access_key_id or access_key_secret")
        if mode == "StsToken" and not fields["sts_token"]:
            raise self._error("printed mode StsToken without sts_token")
        expiration = self._expiration(data.get("expiration"))
        if expiration is not None and expiration <= self._command_clock():
            raise self._error("printed credentials that have already expired")
        token = fields["sts_token"] if mode == "StsToken" else ""
        credentials = Credentials(fields["access_key_id"], fields["access_key_secret"], token)
        where = f" of profile '{self._profile}'" if self._profile else ""
        check_credentials(
            credentials,
            source=f"credential command '{self.program}'{where}",
            names={"security_token": "sts_token"},
        )
        return credentials, expiration

    def _expiration(self, value: object) -> datetime | None:
        if value is None or value == "":
            return None
        if isinstance(value, bool):
            raise self._error("printed an unreadable expiration")
        if isinstance(value, int | float):
            try:
                return datetime.fromtimestamp(value, UTC)
            except (OverflowError, OSError, ValueError):
                raise self._error("printed an unreadable expiration") from None
        if isinstance(value, str):
            try:
                parsed = datetime.fromisoformat(value)
            except ValueError:
                raise self._error("printed an unreadable expiration") from None
            return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)
        raise self._error("printed an unreadable expiration")
