"""The log file, the redaction every log record passes through, crash reports and version lines.

Where logs go
    `log_dir` is the one place that knows the directory: ``platformdirs.user_log_path("asrtui")``
    (``~/.local/state/asrtui/log`` on Linux), created 0700. `setup_logging` attaches a rotating
    file (1 MB, 3 old files kept, each 0600) to the ``asrtui`` logger only: third-party loggers
    (httpx logs every request URL, query string and all) never reach the file. A directory that
    cannot hold the log (a file in its place, not writable, a full disk) is a `ConfigError`
    at start, saying why; a write that fails later (the disk fills up during a broadcast) is
    dropped without a word on the terminal, whose screen belongs to the console.

Redaction
    Every record that reaches the file passes `RedactingFilter` first. It formats the message
    with its args, masks secrets in it, in the exception text and in the stack text, and
    drops the args and the exception object so that no later handler can format them again.
    Masked are: the secrets registered with `register_secret` (the AccessKey secret and the
    STS token, also percent-encoded), ``auth_key`` values of stream URLs, ``SecurityToken``,
    ``AccessKeySecret``, ``Authorization`` and ``Signature`` values, and account ids
    (``aliUid``, of which the last 4 characters stay). Masking never raises: a log line that
    cannot be cleaned is replaced, never passed through.

Crash reports
    `write_crash_report` writes a redacted traceback and the versions to a new
    ``crash-<UTC timestamp>.txt`` (0600) next to the log, for the composition root to call
    when something unexpected escapes, and to point the user at.
"""

from __future__ import annotations

import errno
import io
import logging
import logging.handlers
import os
import platform
import re
import stat
import threading
import traceback
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import cast

import platformdirs

from asrtui import __version__
from asrtui.errors import ConfigError
from asrtui.privatedir import ensure_private_dir
from asrtui.redact import MASK, redact_text

__all__ = [
    "LEVELS",
    "LOG_FILE_NAME",
    "RedactingFilter",
    "forget_secrets",
    "log_dir",
    "redact_log_text",
    "register_secret",
    "setup_logging",
    "shutdown_logging",
    "versions_text",
    "write_crash_report",
]

#: The level names `setup_logging` accepts, quietest last.
LEVELS: dict[str, int] = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warning": logging.WARNING,
    "error": logging.ERROR,
    "critical": logging.CRITICAL,
}
#: The name of the current log file in `log_dir`.
LOG_FILE_NAME = "asrtui.log"
MAX_LOG_BYTES = 1_000_000
BACKUP_COUNT = 3

_LOGGER_NAME = "asrtui"
_FORMAT = "%(asctime)s %(levelname)-8s %(name)s[%(process)d]: %(message)s"

_secrets: set[str] = set()
_secrets_lock = threading.Lock()
# Bumped (under the lock) whenever `_secrets` changes: a masked text remembered under another
# number was masked with other secrets.
_secrets_version = [0]
# Short texts masked lately, by (secrets version, text): a journal masks every string of every
# event, and most of them (a tag, a language, a status) repeat from event to event.
_masked_memo: dict[tuple[int, str], str] = {}
_MEMO_TEXT_CHARS = 80
# Emptied when full: what repeats comes back within a few events, and a first answer of
# thousands of tasks (each "appeared", with its id and stream) would otherwise hold ~350 KB of
# texts never seen again.
_MEMO_SIZE = 1024
# The directory `setup_logging` chose, where crash reports go too.
_active_dir: Path | None = None
_handler: logging.Handler | None = None

# ``Authorization: ACS3-HMAC-SHA256 Credential=...,Signature=...``: the whole value, quoted
# (to its closing quote) or not (to the end of the line).
_AUTH_QUOTED_RE = re.compile(
    r"(?i)((?<![A-Za-z])authorization[\"']?[ \t]*[:=][ \t]*)([\"'])(.*?)\2"
)
_AUTH_PLAIN_RE = re.compile(
    r"(?i)((?<![A-Za-z])authorization[ \t]*[:=][ \t]*)(?![\"'\s])([^\r\n]+)"
)
# ``Signature=...`` (RPC query, V3 header part), ``"Signature": "..."``, percent-encoded too.
# A value is what a signature looks like (8+ base64/hex/percent characters), so prose such as
# "signature: check the secret" is left alone.
_SIGNATURE_RE = re.compile(
    r"(?i)((?<![A-Za-z])signature(?:[\"']?[ \t]*[:=][ \t]*[\"']?|%3d))([A-Za-z0-9+/=%_~.\-]{8,})"
)


def log_dir() -> Path:
    """The directory of the log file and crash reports (the user log dir of asrtui)."""
    return platformdirs.user_log_path("asrtui")


def register_secret(value: str) -> None:
    """Mask ``value`` in every log record and crash report from now on.

    Every real client registers the AccessKey secret and the STS token it signs with as it
    first uses them (``asrtui.connect.registering_secrets``), and again whenever a credential
    command hands out new ones. Empty values are ignored.
    """
    if isinstance(value, str) and value:
        with _secrets_lock:
            if value not in _secrets:
                _secrets.add(value)
                _secrets_version[0] += 1


def forget_secrets() -> None:
    """Forget every registered secret (for tests, and when the credentials are replaced)."""
    with _secrets_lock:
        _secrets.clear()
        _secrets_version[0] += 1


def redact_log_text(text: str) -> str:
    """``text`` with every secret kind of the module docstring masked; never raises.

    A short text masked lately under the same registered secrets is answered from memory.
    """
    if not isinstance(text, str):
        return MASK
    if len(text) > _MEMO_TEXT_CHARS:
        return _redact_log_text(text)
    # The version is read before the secrets are: a text is never remembered under a version
    # newer than the secrets it was masked with.
    key = (_secrets_version[0], text)
    masked = _masked_memo.get(key)
    if masked is None:
        masked = _redact_log_text(text)
        if len(_masked_memo) >= _MEMO_SIZE:
            _masked_memo.clear()
        _masked_memo[key] = masked
    return masked


def _redact_log_text(text: str) -> str:
    text = _AUTH_QUOTED_RE.sub(lambda m: f"{m.group(1)}{m.group(2)}{MASK}{m.group(2)}", text)
    text = _AUTH_PLAIN_RE.sub(lambda m: m.group(1) + MASK, text)
    text = _SIGNATURE_RE.sub(lambda m: m.group(1) + MASK, text)
    with _secrets_lock:
        secrets = tuple(_secrets)
    # Last: the registered secrets are replaced after every pattern, so none can survive.
    return redact_text(text, secrets)


class RedactingFilter(logging.Filter):
    """Masks secrets in a record's message, args, exception and stack text (never drops it).

    The record is changed in place: ``msg`` becomes the formatted, masked message, ``args``
    are dropped, ``exc_text`` holds the masked traceback and ``exc_info`` is cleared, so every
    handler after this one sees only the masked text.
    """

    def __init__(self, formatter: logging.Formatter | None = None) -> None:
        super().__init__()
        self._formatter = formatter or logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        """Mask the record; always keep it."""
        try:
            message = record.getMessage()
        except (TypeError, ValueError, KeyError):
            message = f"{record.msg!s} (unformattable arguments)"
        record.msg = redact_log_text(message)
        record.args = None
        if record.exc_info and record.exc_info[0] is not None:
            if not record.exc_text:
                record.exc_text = self._formatter.formatException(record.exc_info)
            record.exc_info = None
        if record.exc_text:
            record.exc_text = redact_log_text(record.exc_text)
        if record.stack_info:
            record.stack_info = redact_log_text(record.stack_info)
        return True


class _LocalTimeFormatter(logging.Formatter):
    """Timestamps as ISO 8601 with the UTC offset, so logs from two hosts line up."""

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        moment = datetime.fromtimestamp(record.created, UTC).astimezone()
        return moment.isoformat(timespec="milliseconds")


def _private_opener(path: str, flags: int) -> int:
    """``open`` opener that creates files 0600 whatever the umask, and only regular files.

    Non-blocking, so that a FIFO in the log's place fails at once instead of waiting for a
    reader forever; anything but a regular file is refused.
    """
    fd = os.open(path, flags | os.O_NONBLOCK, 0o600)
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise OSError(errno.EINVAL, "not a regular file", path)
    return fd


class _PrivateRotatingFileHandler(logging.handlers.RotatingFileHandler):
    """A `RotatingFileHandler` whose files (the current one and each new one) are 0600."""

    #: Records that could not be written (see `handleError`).
    dropped = 0

    def _open(self) -> io.TextIOWrapper:
        stream = open(  # noqa: SIM115 - the handler owns and closes the stream
            self.baseFilename,
            self.mode,
            encoding=self.encoding,
            errors=self.errors,
            opener=_private_opener,
        )
        os.chmod(self.baseFilename, 0o600)  # a file left by an older version may be 0644
        return cast(io.TextIOWrapper, stream)  # text mode: ``self.mode`` is "a" or "w"

    def handleError(self, record: logging.LogRecord) -> None:
        """Drop a record that cannot be written (a full disk): never a traceback on stderr.

        `logging.Handler.handleError` prints one, over the console's screen; the log is a
        help for later, not worth a broken screen or a stopped session.
        """
        self.dropped += 1


def _parse_level(level: str) -> int:
    value = LEVELS.get(level.strip().lower()) if isinstance(level, str) else None
    if value is None:
        raise ConfigError(f"Invalid log level {level!r}", f"use one of: {', '.join(LEVELS)}")
    return value


def setup_logging(level: str = "warning", *, log_dir: Path | None = None) -> Path:
    """Send the ``asrtui`` loggers to a rotating, redacted, private log file.

    Calling it again replaces the handler it installed before (a new level or directory).

    Args:
        level: ``debug``, ``info``, ``warning``, ``error`` or ``critical`` (any case).
        log_dir: the directory; the user log dir (`log_dir`) when ``None``.

    Returns:
        The path of the log file.

    Raises:
        ConfigError: an unknown level (the message names the valid ones), or the directory
            or the file cannot be created or written (the message says why: a file in the
            way, permissions, a full disk...).
    """
    global _active_dir, _handler  # noqa: PLW0603 - one logging set-up per process
    # Imported here: every real client loads this module (`register_secret`), few log.
    from asrtui.files import file_error, usable_directory

    numeric = _parse_level(level)
    hint = "point XDG_STATE_HOME at a writable directory, or run without --log-level"
    directory = usable_directory(
        log_dir if log_dir is not None else _default_log_dir(), "the log directory", hint
    )
    path = directory / LOG_FILE_NAME
    try:
        directory.chmod(0o700)
        handler = _PrivateRotatingFileHandler(
            path, maxBytes=MAX_LOG_BYTES, backupCount=BACKUP_COUNT, encoding="utf-8"
        )
    except OSError as error:
        raise file_error("Cannot open the log file", path, error, hint) from None
    formatter = _LocalTimeFormatter(_FORMAT)
    handler.setFormatter(formatter)
    handler.addFilter(RedactingFilter(formatter))
    logger = logging.getLogger(_LOGGER_NAME)
    if _handler is not None:
        logger.removeHandler(_handler)
        _handler.close()
    logger.addHandler(handler)
    logger.setLevel(numeric)
    _handler = handler
    _active_dir = directory
    return path


def shutdown_logging() -> None:
    """Remove and close the handler `setup_logging` installed (for tests and clean exits)."""
    global _active_dir, _handler  # noqa: PLW0603 - one logging set-up per process
    if _handler is not None:
        logging.getLogger(_LOGGER_NAME).removeHandler(_handler)
        _handler.close()
    _handler = None
    _active_dir = None


def _default_log_dir() -> Path:
    return log_dir()


def _version_of(distribution: str) -> str:
    # Imported here, like in `versions_text`: some 6 ms that only ``--version`` and crash
    # reports need, while every real client loads this module for `register_secret`.
    from importlib import metadata

    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return "not installed"


def versions_text() -> str:
    """The lines ``asrtui --version`` prints: asrtui, Textual, httpx and Python versions."""
    from importlib import metadata

    try:
        own = metadata.version("asrtui")
    except metadata.PackageNotFoundError:
        own = __version__  # running from a source tree
    python = f"{platform.python_version()} ({platform.python_implementation()})"
    return "\n".join(
        (
            f"asrtui {own}",
            f"Textual {_version_of('textual')}",
            f"httpx {_version_of('httpx')}",
            f"Python {python}",
        )
    )


def _utc_now() -> datetime:
    return datetime.now(UTC)


def write_crash_report(
    exc: BaseException,
    *,
    directory: Path | None = None,
    clock: Callable[[], datetime] = _utc_now,
) -> Path:
    """Write a redacted traceback and the versions to a new ``crash-<timestamp>.txt``.

    Args:
        exc: the exception that escaped.
        directory: where to write; the log directory in use (`setup_logging`'s, else
            `log_dir`) when ``None``.
        clock: the aware UTC time the report is named and stamped with.

    Returns:
        The path of the report (mode 0600).

    Raises:
        OSError: the report cannot be written.
    """
    target = ensure_private_dir(directory or _active_dir or _default_log_dir())
    moment = clock().astimezone(UTC)
    lines = [
        "asrtui crash report",
        f"time: {moment.isoformat(timespec='seconds')}",
        versions_text(),
        f"Platform {platform.platform()}",
        "",
        "".join(traceback.format_exception(exc)).rstrip(),
        "",
    ]
    text = redact_log_text("\n".join(lines))
    stamp = moment.strftime("%Y%m%dT%H%M%S.%fZ")
    for attempt in range(100):
        suffix = f"-{attempt}" if attempt else ""
        path = target / f"crash-{stamp}{suffix}.txt"
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            continue
        with os.fdopen(fd, "w", encoding="utf-8") as stream:
            stream.write(text)
        return path
    raise FileExistsError(f"too many crash reports named crash-{stamp}*.txt in {target}")
