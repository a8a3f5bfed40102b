"""What a new task is made of: the fields of ``CreateRtcAsrTask``, their rules, their checks.

One definition for the command line (``asrtui create``) and the console's form: each field
(`FIELDS`) carries its rule in words, shown next to it (in ``--help`` and beside the input),
and `validate` checks every documented value before anything is sent, so a typo costs no
request and is named by its field. The service has the last word: `field_of_error` finds the
field a server's error names, so it is shown next to that field too.

A restart is a new task with the settings of another (`values_of_task`): the API cannot give
back an ``AuthKey`` (it never lists one), so a restart asks for it again if it is needed.

``CreateRtcAsrTask`` is in maintenance mode upstream (the API reference says so); it still
works, and asrtui keeps it working.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal
from urllib.parse import urlsplit

from asrtui.models import Task
from asrtui.printable import printable_line
from asrtui.redact import MASK, mask_url

__all__ = [
    "FIELDS",
    "LANGUAGES",
    "MAINTENANCE_NOTE",
    "MODES",
    "TARGET_LANGUAGES",
    "FieldRule",
    "TaskSpec",
    "field_of_error",
    "summary_lines",
    "validate",
    "values_of_task",
]

MODES: Final = ("live", "rtc")
LANGUAGES: Final = ("cn", "en", "ja", "yue", "fspk")
TARGET_LANGUAGES: Final = ("cn", "en", "ja")
REPORT_INTERVAL_RANGE: Final = (-1, 500)
AUTO_TERMINATE_DELAY_RANGE: Final = (1, 10)
#: The longest text a field takes (a stream URL with its token is some 200 characters).
MAX_TEXT: Final = 2048

#: Said in the help and the form: the action still works, but is not developed upstream.
MAINTENANCE_NOTE: Final = (
    "CreateRtcAsrTask is in maintenance mode upstream (the API documentation says so); "
    "asrtui keeps it working."
)


@dataclass(frozen=True)
class FieldRule:
    """One field of the form: its API name, the key of its value, its label and rule."""

    api: str
    key: str
    label: str
    rule: str
    option: str


#: Every field, in form order. ``key`` names the value in `validate`'s mapping.
FIELDS: Final = (
    FieldRule("Mode", "mode", "Mode", "required: live or rtc", "--mode"),
    FieldRule(
        "Language", "language", "Language", "required: " + ", ".join(LANGUAGES), "--language"
    ),
    FieldRule(
        "CallbackURL",
        "callback_url",
        "Callback URL",
        "required: 'default' or an http(s):// URL where results are posted",
        "--callback-url",
    ),
    FieldRule(
        "StreamURL",
        "stream_url",
        "Stream URL",
        "live only, required there: the stream to pull (http, https, rtmp or artc URL)",
        "--stream-url",
    ),
    FieldRule("SDKAppID", "sdk_app_id", "SDK app id", "rtc only, required there", "--sdk-app-id"),
    FieldRule("ChannelID", "channel_id", "Channel id", "rtc only, required there", "--channel-id"),
    FieldRule(
        "RtcUserId", "rtc_user_id", "RTC user id", "rtc only, required there", "--rtc-user-id"
    ),
    FieldRule(
        "TranslateEnabled",
        "translate_enabled",
        "Translate",
        "true or false (default false)",
        "--translate",
    ),
    FieldRule(
        "TargetLanguages",
        "target_languages",
        "Target languages",
        "with Translate only, required there: comma-separated, of " + ", ".join(TARGET_LANGUAGES),
        "--target-languages",
    ),
    FieldRule(
        "AuthKey",
        "auth_key",
        "Auth key",
        "optional; secret: never shown, logged or journaled",
        "--auth-key-stdin",
    ),
    FieldRule(
        "ReportInterval",
        "report_interval",
        "Report interval",
        "optional: milliseconds, -1 to 500",
        "--report-interval",
    ),
    FieldRule(
        "AutoTerminateEnabled",
        "auto_terminate_enabled",
        "Auto terminate",
        "true or false (optional)",
        "--auto-terminate",
    ),
    FieldRule(
        "AutoTerminateDelay",
        "auto_terminate_delay",
        "Auto-terminate delay",
        "optional: seconds, 1 to 10",
        "--auto-terminate-delay",
    ),
)

_BY_KEY: Final = {rule.key: rule for rule in FIELDS}
_STREAM_SCHEMES: Final = ("http", "https", "rtmp", "artc")
_TRUE: Final = ("true", "yes", "on", "1")
_FALSE: Final = ("false", "no", "off", "0")
_CONTROL_RE: Final = re.compile(r"[\x00-\x20\x7f-\x9f\u2028\u2029\u200b-\u200f\u202a-\u202e]")


@dataclass(frozen=True)
class TaskSpec:
    """A checked set of ``CreateRtcAsrTask`` values (`validate` makes them)."""

    mode: Literal["live", "rtc"]
    language: str
    callback_url: str
    stream_url: str | None = None
    sdk_app_id: str | None = None
    channel_id: str | None = None
    rtc_user_id: str | None = None
    translate_enabled: bool | None = None
    target_languages: str | None = None
    auth_key: str | None = None
    report_interval: int | None = None
    auto_terminate_enabled: bool | None = None
    auto_terminate_delay: int | None = None

    def __repr__(self) -> str:
        shown = ", ".join(f"{k}={v!r}" for k, v in self.masked().items())
        return f"TaskSpec({shown})"

    def arguments(self) -> dict[str, Any]:
        """Keyword arguments of `asrtui.client.LiveClient.create_task`."""
        return {name: getattr(self, name) for name in _BY_KEY}

    def masked(self) -> dict[str, Any]:
        """The values set, secrets masked: what may be shown, logged and journaled."""
        shown: dict[str, Any] = {}
        for key in _BY_KEY:
            value = getattr(self, key)
            if value is None:
                continue
            if key == "auth_key":
                value = MASK
            elif isinstance(value, str):
                value = mask_url(value)
            shown[key] = value
        return shown


def _text(values: Mapping[str, object], key: str) -> str:
    value = values.get(key)
    if value is None:
        return ""
    return value.strip() if isinstance(value, str) else str(value)


def _bad_text(value: str) -> str | None:
    if len(value) > MAX_TEXT:
        return f"longer than {MAX_TEXT} characters"
    if _CONTROL_RE.search(value):
        return "holds a space or a control character"
    return None


def _url_error(value: str, schemes: tuple[str, ...]) -> str | None:
    bad = _bad_text(value)
    if bad:
        return bad
    try:
        parts = urlsplit(value)
    except ValueError:
        return "not a URL"
    if parts.scheme.lower() not in schemes or not parts.netloc:
        return f"must be a {', '.join(s + '://' for s in schemes)} URL with a host"
    return None


def _flag(value: object) -> bool | str | None:
    """A yes/no value; ``None`` when empty; an error text when neither."""
    if value is None or isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if not text:
        return None
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    return "must be true or false"


def _number(value: str, low: int, high: int, unit: str) -> int | str:
    try:
        number = int(value)
    except ValueError:
        return f"must be a whole number of {unit}, {low} to {high}"
    if not low <= number <= high:
        return f"must be from {low} to {high} {unit}, not {number}"
    return number


def validate(values: Mapping[str, object]) -> tuple[TaskSpec | None, dict[str, str]]:
    """Check every field of a new task against the documented rules.

    Args:
        values: field key (`FieldRule.key`) → value as typed (text, or a bool for flags);
            empty or absent means not given.

    Returns:
        The spec and no errors, or ``None`` and field key → what is wrong (one line each,
        every field checked, so a form can mark them all at once).
    """
    errors: dict[str, str] = {}
    mode = _text(values, "mode").lower()
    if mode not in MODES:
        errors["mode"] = (
            "required: live or rtc" if not mode else f"must be live or rtc, not {mode!r}"
        )
    language = _text(values, "language")
    if language not in LANGUAGES:
        errors["language"] = (
            f"required: {', '.join(LANGUAGES)}"
            if not language
            else f"must be one of {', '.join(LANGUAGES)}, not {printable_line(language)!r}"
        )
    callback = _text(values, "callback_url")
    if not callback:
        errors["callback_url"] = "required: 'default' or an http(s):// URL"
    elif callback != "default":
        problem = _url_error(callback, ("http", "https"))
        if problem:
            errors["callback_url"] = f"{problem} (or 'default')"
    stream = _text(values, "stream_url")
    if mode == "live" and not stream:
        errors["stream_url"] = "required when Mode is live"
    elif stream and mode == "rtc":
        errors["stream_url"] = "only for Mode live (rtc takes SDK app, channel and user ids)"
    elif stream:
        problem = _url_error(stream, _STREAM_SCHEMES)
        if problem:
            errors["stream_url"] = problem
    rtc: dict[str, str] = {}
    for key in ("sdk_app_id", "channel_id", "rtc_user_id"):
        rtc[key] = _text(values, key)
        if mode == "rtc" and not rtc[key]:
            errors[key] = "required when Mode is rtc"
        elif rtc[key] and mode == "live":
            errors[key] = "only for Mode rtc"
        elif rtc[key] and (problem := _bad_text(rtc[key])):
            errors[key] = problem
    flags: dict[str, bool | None] = {}
    for key in ("translate_enabled", "auto_terminate_enabled"):
        flag = _flag(values.get(key))
        if isinstance(flag, str):
            errors[key] = flag
            flags[key] = None
        else:
            flags[key] = flag
    targets_text = _text(values, "target_languages")
    targets = [item.strip() for item in targets_text.split(",") if item.strip()]
    wrong = [item for item in targets if item not in TARGET_LANGUAGES]
    if wrong:
        errors["target_languages"] = (
            f"{', '.join(repr(printable_line(w)) for w in wrong)} not one of "
            f"{', '.join(TARGET_LANGUAGES)}"
        )
    elif len(set(targets)) != len(targets):
        errors["target_languages"] = "a language is named twice"
    elif flags["translate_enabled"] and not targets:
        errors["target_languages"] = "required when Translate is on"
    elif targets and not flags["translate_enabled"]:
        errors["target_languages"] = "only with Translate on (--translate)"
    auth_key = _text(values, "auth_key")
    if auth_key and _bad_text(auth_key):
        # Never quoted: it is a secret.
        errors["auth_key"] = "holds a space or a control character, or is too long"
    numbers: dict[str, int | None] = {}
    for key, (low, high), unit in (
        ("report_interval", REPORT_INTERVAL_RANGE, "milliseconds"),
        ("auto_terminate_delay", AUTO_TERMINATE_DELAY_RANGE, "seconds"),
    ):
        text = _text(values, key)
        numbers[key] = None
        if text:
            found = _number(text, low, high, unit)
            if isinstance(found, str):
                errors[key] = found
            else:
                numbers[key] = found
    if errors:
        return None, errors
    spec = TaskSpec(
        mode="live" if mode == "live" else "rtc",
        language=language,
        callback_url=callback,
        stream_url=stream or None,
        sdk_app_id=rtc["sdk_app_id"] or None,
        channel_id=rtc["channel_id"] or None,
        rtc_user_id=rtc["rtc_user_id"] or None,
        translate_enabled=flags["translate_enabled"],
        target_languages=",".join(targets) or None,
        auth_key=auth_key or None,
        report_interval=numbers["report_interval"],
        auto_terminate_enabled=flags["auto_terminate_enabled"],
        auto_terminate_delay=numbers["auto_terminate_delay"],
    )
    return spec, {}


def values_of_task(task: Task) -> dict[str, object]:
    """The form's values for a new task like ``task`` (a restart), as `validate` takes them.

    The stream URL is taken as the API lists it, token included (the new task pulls the same
    stream); the form shows it masked. ``rtc`` ids are not listed by the API: a restart of an
    rtc task asks for them.
    """
    values: dict[str, object] = {
        "mode": task.mode,
        "language": task.language,
        "callback_url": task.callback_url,
        "stream_url": task.stream_url if task.mode == "live" else "",
    }
    if task.target_languages:
        values["translate_enabled"] = True
        values["target_languages"] = ",".join(task.target_languages)
    elif task.translate_enabled is not None:
        values["translate_enabled"] = task.translate_enabled
    if task.report_interval is not None:
        values["report_interval"] = str(task.report_interval)
    if task.auto_terminate_delay is not None:
        values["auto_terminate_delay"] = str(task.auto_terminate_delay)
    for key in ("sdk_app_id", "channel_id", "rtc_user_id"):
        value = task.extra.get(
            {"sdk_app_id": "sdkAppId", "channel_id": "channelId"}.get(key, "rtcUserId")
        )
        if isinstance(value, str) and value:
            values[key] = value
    return values


def field_of_error(message: str) -> str | None:
    """The field (`FieldRule.key`) a server's error message names, if any.

    Servers name the parameter (``invalid parameter StreamURL: ...``, ``MissingParameter
    Language``); the longest API name found wins, so ``AutoTerminateDelay`` is not taken for
    a shorter name inside it.
    """
    lowered = message.lower()
    found = [rule for rule in FIELDS if re.search(rf"\b{rule.api.lower()}\b", lowered)]
    if not found:
        return None
    return max(found, key=lambda rule: len(rule.api)).key


def summary_lines(spec: TaskSpec) -> list[str]:
    """``Label: value`` lines of a spec, masked, to confirm before sending."""
    shown = spec.masked()
    return [
        f"  {rule.label}: {printable_line(str(shown[rule.key]))}"
        for rule in FIELDS
        if rule.key in shown
    ]
