"""Alert hooks: the operator's own command, run with an event as JSON on its standard input.

So that someone who is not looking at the screen hears of a task that ended or an API that
stopped answering, the operator names a command (``--on-event 'notify-room --room ops'``, or
the profile's ``on_event``) and the kinds of event it wants (`DEFAULT_KINDS` unless told).
For each such event the command runs with the event's JSON object (`asrtui.events`,
journal-masked) as one line on stdin.

How it is kept from hurting the console:

- argv, never a shell: the command is split like a shell would (`shlex`), nothing is
  expanded, no text of an event reaches a command line;
- at most one run at a time per hook: events that arrive meanwhile wait in a short queue
  (`MAX_PENDING`; past it the oldest are dropped and counted), in order;
- `offer` never blocks and never raises: runs happen in a background task;
- each run has a timeout, after which its whole process group is killed;
- its output is read and capped (`MAX_OUTPUT` bytes kept, the rest drained and dropped), so a
  hook printing megabytes cannot fill memory or block on a full pipe;
- its failures (cannot start, exit code, timeout) are logged, and told to the console through
  ``on_failure`` once until a run succeeds again;
- its environment holds no credentials: the Alibaba Cloud credential variables are removed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shlex
import signal
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Final

from asrtui.events import (
    API_ERROR_BEGAN,
    API_ERROR_ENDED,
    CREDENTIALS_FAILING,
    EVENT_KINDS,
    TASK_ENDED,
    THROTTLED,
    Event,
)
from asrtui.printable import printable_line

__all__ = [
    "DEFAULT_KINDS",
    "DEFAULT_TIMEOUT",
    "MAX_OUTPUT",
    "MAX_PENDING",
    "HookRunner",
    "HookSpec",
    "parse_hook",
    "parse_kinds",
]

_log = logging.getLogger("asrtui.hooks")

#: The kinds a hook gets unless told otherwise: what someone away from the screen must hear.
DEFAULT_KINDS: Final = frozenset(
    {TASK_ENDED, API_ERROR_BEGAN, API_ERROR_ENDED, THROTTLED, CREDENTIALS_FAILING}
)
#: Seconds a run may take before its process group is killed.
DEFAULT_TIMEOUT: Final = 10.0
#: Bytes of a run's output (stdout and stderr each) kept for the log.
MAX_OUTPUT: Final = 4096
#: Events waiting for the run in progress; past this the oldest are dropped.
MAX_PENDING: Final = 100
#: Prefixes of the environment variables a hook never inherits.
_CREDENTIAL_PREFIXES: Final = ("ALIBABA_CLOUD_", "ALICLOUD_", "ALIBABACLOUD_")
_CHUNK: Final = 65536


@dataclass(frozen=True)
class HookSpec:
    """A hook: the command's argv, the kinds it gets, its timeout."""

    argv: tuple[str, ...]
    kinds: frozenset[str] = DEFAULT_KINDS
    timeout: float = DEFAULT_TIMEOUT

    def __str__(self) -> str:
        # Imported here, as the journal's encoder below: the command line loads this module for
        # its defaults, and a start with no hook needs neither (start-up time).
        from asrtui.logs import redact_log_text

        return printable_line(redact_log_text(shlex.join(self.argv)))


def parse_hook(
    command: str, kinds: Iterable[str] | None = None, timeout: float | None = None
) -> HookSpec:
    """A hook from a command line as typed (split like a shell, never run by one).

    Raises:
        ValueError: an empty command, unbalanced quotes, an unknown kind, a bad timeout.
    """
    try:
        argv = tuple(shlex.split(command))
    except ValueError as error:
        raise ValueError(f"cannot split the hook command: {error}") from None
    if not argv:
        raise ValueError("the hook command is empty")
    chosen = DEFAULT_KINDS if kinds is None else frozenset(kinds)
    unknown = sorted(chosen - set(EVENT_KINDS))
    if unknown:
        raise ValueError(
            f"unknown event kind {', '.join(map(repr, unknown))}: "
            f"choose from {', '.join(EVENT_KINDS)}"
        )
    if not chosen:
        raise ValueError("no event kind chosen")
    seconds = DEFAULT_TIMEOUT if timeout is None else timeout
    if not 0.1 <= seconds <= 600:
        raise ValueError(f"the hook timeout must be from 0.1 to 600 seconds, not {seconds}")
    return HookSpec(argv, chosen, seconds)


def parse_kinds(text: str) -> frozenset[str]:
    """``task_ended,throttled`` (or ``all``) as a set of kinds; checked by `parse_hook`."""
    if text.strip().lower() == "all":
        return frozenset(EVENT_KINDS)
    return frozenset(item.strip() for item in text.split(",") if item.strip())


def hook_environment(env: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment a hook runs in: ours, without any credential variable."""
    source = os.environ if env is None else env
    return {k: v for k, v in source.items() if not k.upper().startswith(_CREDENTIAL_PREFIXES)}


@dataclass
class RunResult:
    """How one run ended (for the log and the tests)."""

    event: Event
    code: int | None
    timed_out: bool = False
    error: str = ""
    stdout: bytes = b""
    stderr: bytes = b""
    truncated: bool = False

    @property
    def ok(self) -> bool:
        """Whether the command ran and exited 0 in time."""
        return self.code == 0 and not self.timed_out and not self.error


async def _read_capped(stream: asyncio.StreamReader | None) -> tuple[bytes, bool]:
    """Read to the end, keep the first `MAX_OUTPUT` bytes; whether more was dropped."""
    if stream is None:
        return b"", False
    kept = bytearray()
    dropped = False
    while chunk := await stream.read(_CHUNK):
        room = MAX_OUTPUT - len(kept)
        if room > 0:
            kept += chunk[:room]
        if len(chunk) > room:
            dropped = True
    return bytes(kept), dropped


def _kill_group(process: asyncio.subprocess.Process) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
    with contextlib.suppress(ProcessLookupError):
        process.kill()


@dataclass
class HookRunner:
    """Runs one hook for the events offered to it, one run at a time, in the background.

    Args:
        spec: the hook.
        on_failure: told a one-line failure, once until a run succeeds again.
        env: the environment to strip of credentials (this process's by default).
    """

    spec: HookSpec
    on_failure: Callable[[str], None] = lambda _message: None
    env: Mapping[str, str] | None = None
    results: deque[RunResult] = field(default_factory=lambda: deque(maxlen=20))
    dropped: int = 0
    _pending: deque[Event] = field(default_factory=deque)
    _worker: asyncio.Task[None] | None = None
    _failing: bool = False

    def wants(self, event: Event) -> bool:
        """Whether the hook asked for this kind of event."""
        return event.kind in self.spec.kinds

    def offer(self, event: Event) -> None:
        """Queue ``event`` for a run if the hook wants it; never blocks, never raises.

        Must be called from a running event loop (the console's, or a watch's).
        """
        if not self.wants(event):
            return
        if len(self._pending) >= MAX_PENDING:
            self._pending.popleft()
            self.dropped += 1
        self._pending.append(event)
        if self._worker is None or self._worker.done():
            self._worker = asyncio.get_running_loop().create_task(self._drain())

    async def _drain(self) -> None:
        while self._pending:
            event = self._pending.popleft()
            try:
                result = await self._run(event)
            except Exception as error:
                result = RunResult(event, None, error=f"{type(error).__name__}: {error}")
            self.results.append(result)
            self._judge(result)

    def _judge(self, result: RunResult) -> None:
        if result.ok:
            self._failing = False
            return
        if result.timed_out:
            what = f"timed out after {self.spec.timeout:g} s and was killed"
        elif result.error:
            what = f"could not run: {result.error}"
        else:
            what = f"exited with code {result.code}"
        output = result.stderr.decode("utf-8", "replace").strip().splitlines()
        tail = f" ({output[-1][:200]})" if output else ""
        from asrtui.logs import redact_log_text

        message = printable_line(redact_log_text(f"Alert hook {self.spec} {what}{tail}"))
        _log.warning("%s", message)
        if not self._failing:
            self._failing = True
            with contextlib.suppress(Exception):
                self.on_failure(message)

    async def _run(self, event: Event) -> RunResult:
        from asrtui.journal import encode_line

        data = encode_line(event).encode("utf-8")
        try:
            process = await asyncio.create_subprocess_exec(
                *self.spec.argv,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                env=hook_environment(self.env),
                start_new_session=True,
            )
        except OSError as error:
            return RunResult(event, None, error=printable_line(error.strerror or str(error)))

        async def talk() -> tuple[tuple[bytes, bool], tuple[bytes, bool]]:
            assert process.stdin is not None
            with contextlib.suppress(ConnectionError, BrokenPipeError):
                process.stdin.write(data)
                await process.stdin.drain()
            with contextlib.suppress(ConnectionError, BrokenPipeError):
                process.stdin.close()
            out, err = await asyncio.gather(
                _read_capped(process.stdout), _read_capped(process.stderr)
            )
            await process.wait()
            return out, err

        try:
            (out, cut_out), (err, cut_err) = await asyncio.wait_for(talk(), self.spec.timeout)
        except TimeoutError:
            _kill_group(process)
            with contextlib.suppress(Exception):
                await asyncio.wait_for(process.wait(), 5.0)
            return RunResult(event, process.returncode, timed_out=True)
        except asyncio.CancelledError:
            _kill_group(process)
            raise
        return RunResult(
            event, process.returncode, stdout=out, stderr=err, truncated=cut_out or cut_err
        )

    async def aclose(self) -> None:
        """Stop: the run in progress is killed, waiting events are dropped."""
        self._pending.clear()
        if self._worker is not None and not self._worker.done():
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._worker

    async def idle(self) -> None:
        """Wait until every offered event has had its run (for the end of a watch, and tests)."""
        while self._worker is not None and not self._worker.done():
            await asyncio.shield(self._worker)
