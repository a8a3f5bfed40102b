"""Masking of secrets (stream ``auth_key``, account ids, STS tokens) for screens, logs, exports.

A pulled stream URL carries a live ``auth_key`` token that lets anyone pull the stream, and
``aliUid`` is the account id: both are masked everywhere unless the user explicitly reveals
them. Every function here is total: junk input comes back masked as well as it can be, never
as an exception, because redaction runs inside error handling and logging where a raise would
hide the original problem.

Two matching modes exist because the end of a value differs by context. In a URL the value of
``auth_key`` runs to the next ``&`` or ``#`` (what the server reads); in free text (a log line,
an error message) it also ends at whitespace and quotes. Percent-encoded forms
(``auth%5Fkey``, ``auth_key%3D...``) of URLs nested inside other URLs are masked too.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import quote, quote_plus, unquote

from asrtui.jsontext import RawJSON

__all__ = [
    "MASK",
    "mask_account_id",
    "mask_stream_url",
    "redact_task_dict",
    "redact_text",
    "stream_host_path",
]

#: What every masked value is replaced with.
MASK = "****"

#: Parameter names (lower case, percent-decoded) whose values are stream tokens.
_AUTH_KEY_NAMES = frozenset({"auth_key", "authkey", "auth-key"})

_NAME = r"auth(?:[_-]|%5f)?key"
_SEP = r"(?:[_-]|%5f)?"
# Every name whose value is a secret in free text: stream tokens, STS tokens, AccessKey secrets.
_TEXT_NAMES = rf"(?:{_NAME}|(?:x-acs-)?security{_SEP}token|access{_SEP}key{_SEP}secret)"

# A URL nested in another URL's query: ``auth_key%3D<value>`` runs to an encoded ``&`` or ``#``.
_ENCODED_URL_RE = re.compile(rf"(?i)({_NAME}%3d)((?:(?!%26|%23)[^&#])*)")
# A plain ``auth_key=<value>`` elsewhere in a URL (path parameters, unencoded nested URLs).
# Query and fragment values were already masked whole by `_mask_params`.
_PLAIN_URL_RE = re.compile(rf"(?i)({_NAME}=)([^&#?]*)")

_TEXT_END = r"\s\"'<>&#\\"
# Free text: ``auth_key=v``, ``auth_key: v``, ``"auth_key": "v"``, ``AuthKey=v``, and the
# percent-encoded ``SecurityToken%3Dv`` that a server's string-to-sign echo contains.
_ENCODED_TEXT_RE = re.compile(rf"(?i)({_TEXT_NAMES}%3d)((?:(?!%26|%23)[^{_TEXT_END}])*)")
_PLAIN_TEXT_RE = re.compile(rf"(?i)({_TEXT_NAMES}[\"']?[ \t]*[:=][ \t]*[\"']?)([^{_TEXT_END}]*)")
# The account id, as a JSON member or a query parameter.
_ALI_UID_TEXT_RE = re.compile(r"(?i)(ali_?uid[\"']?[ \t]*[:=][ \t]*[\"']?)([^\s\"'<>&#,;}\]]+)")


# The password of a URL's user information, ``scheme://user:PASSWORD@host``; it runs to the
# last ``@`` of the authority, as URL parsers read it. In free text it also ends at quotes.
_USERINFO_URL_RE = re.compile(r"(?i)(\b[a-z][a-z0-9+.-]*://[^/?#@\s:]*:)([^/?#\s]+)(?=@)")
_USERINFO_TEXT_RE = re.compile(
    r"(?i)(\b[a-z][a-z0-9+.-]*://[^/?#@\s:\"'<>]*:)([^/?#\s\"'<>]+)(?=@)"
)


def _mask_value(match: re.Match[str]) -> str:
    """Keep the name and separator of a ``name=value`` match, mask a non-empty value."""
    return match.group(1) + (MASK if match.group(2) else "")


def _mask_uid_match(match: re.Match[str]) -> str:
    return match.group(1) + mask_account_id(match.group(2))


def _mask_params(part: str) -> str:
    """Mask ``auth_key`` values in a ``&``-separated list, reading names as a server does."""
    if "=" not in part:
        return part
    params = part.split("&")
    changed = False
    for index, param in enumerate(params):
        name, sep, value = param.partition("=")
        if sep and value and unquote(name).strip().lower() in _AUTH_KEY_NAMES:
            params[index] = name + sep + MASK
            changed = True
    return "&".join(params) if changed else part


def mask_stream_url(url: str) -> str:
    """Replace the value of every ``auth_key`` in a URL with ``****``, keeping everything else.

    The password of a URL's user information (``rtmp://user:PASSWORD@host/...``) is masked too.

    The query and the fragment are split into parameters as the server does (so a
    percent-encoded name such as ``auth%5Fkey`` is caught), then a pattern pass catches
    ``auth_key`` in path parameters and in URLs nested (percent-encoded) inside this one.

    Args:
        url: a stream URL, or any string; never raises.

    Returns:
        The URL with each ``auth_key`` value replaced by ``****``.
    """
    if not isinstance(url, str):  # defensive: called from error paths with whatever arrived
        return MASK
    if "@" in url:
        url = _USERINFO_URL_RE.sub(_mask_value, url)
    if "%" not in url and "key" not in url.lower():
        return url
    head, hash_sign, fragment = url.partition("#")
    base, question, query = head.partition("?")
    masked = base + question + _mask_params(query) + hash_sign + _mask_params(fragment)
    masked = _ENCODED_URL_RE.sub(_mask_value, masked)
    return _PLAIN_URL_RE.sub(_mask_value, masked)


def stream_host_path(url: str) -> str:
    """``host/path`` of a URL without scheme, credentials, query or fragment, for narrow columns.

    The query is where ``auth_key`` lives, so dropping it is also a way of masking. Any
    ``user:password@`` part is dropped too. Never raises.
    """
    if not isinstance(url, str):
        return ""
    rest = url.strip()
    for stop in ("#", "?"):
        rest = rest.partition(stop)[0]
    scheme, sep, after = rest.partition("://")
    if sep and scheme and "/" not in scheme:
        rest = after
    authority, slash, path = rest.partition("/")
    authority = authority.rpartition("@")[2]
    return authority + slash + path


def mask_account_id(uid: str) -> str:
    """Keep the last 4 characters of an account id and star the rest (all stars when short).

    ``1119309225474343`` becomes ``************4343``: enough to tell two accounts apart.
    """
    if not isinstance(uid, str):
        uid = str(uid) if isinstance(uid, int) and not isinstance(uid, bool) else ""
    uid = uid.strip()
    if len(uid) <= 4:
        return "*" * len(uid)
    return "*" * (len(uid) - 4) + uid[-4:]


def redact_task_dict(raw: Mapping[str, Any]) -> dict[str, Any]:
    """Deep copy of a wire task object with every secret masked, for exports.

    ``aliUid`` (at any depth) keeps its last 4 characters; every string that carries an
    ``auth_key`` (``streamUrl`` and any nested URL) has the value masked. The walk is iterative
    so that deeply nested junk cannot exhaust the stack.

    Args:
        raw: the task object as received.

    Returns:
        A new dict; ``raw`` is not modified.
    """
    result: dict[str, Any] = {}
    # Each entry: a source container and the fresh container to fill from it.
    stack: list[tuple[Any, Any]] = [(raw, result)]
    while stack:
        source, target = stack.pop()
        items: Iterable[tuple[Any, Any]]
        items = source.items() if isinstance(source, Mapping) else enumerate(source)
        for key, value in items:
            if (
                isinstance(key, str)
                and key.lower() in ("aliuid", "ali_uid")
                and not isinstance(value, (Mapping, list, tuple))
            ):
                new: Any = mask_account_id(value) if value is not None else None
            elif isinstance(value, str):
                new = mask_stream_url(value)
            elif isinstance(value, RawJSON):
                # Kept as text for its depth: mask the value it was made of and write it again.
                new = RawJSON.of(redact_task_dict({"": value.value})[""])
            elif isinstance(value, Mapping):
                new = {}
                stack.append((value, new))
            elif isinstance(value, (list, tuple)):
                new = [None] * len(value)
                stack.append((value, new))
            else:
                new = value
            target[key] = new
    return result


def _secret_variants(secrets: Iterable[str]) -> list[str]:
    """The secrets as given and percent-encoded (as they appear in a logged query string)."""
    variants: set[str] = set()
    for secret in secrets:
        if not isinstance(secret, str) or not secret:
            continue
        variants.add(secret)
        variants.add(quote(secret, safe=""))
        variants.add(quote_plus(secret, safe=""))
    # Longest first, so a secret that contains another is replaced whole.
    return sorted(variants, key=len, reverse=True)


def redact_text(text: str, secrets: Iterable[str] = ()) -> str:
    """Replace each non-empty secret, and every ``auth_key`` value, with ``****``.

    For log lines and error messages. Besides the given ``secrets`` (an AccessKey secret, an STS
    token; also matched percent-encoded), values named ``auth_key``/``AuthKey``,
    ``SecurityToken`` or ``AccessKeySecret`` are masked, and an ``aliUid`` keeps only its last
    4 characters. The secrets are replaced last and in one pass, so no secret that contains no
    ``*`` can survive.

    Args:
        text: the text to clean; never raises.
        secrets: literal secret strings to remove.

    Returns:
        The cleaned text.
    """
    if not isinstance(text, str):
        return MASK
    text = _USERINFO_TEXT_RE.sub(_mask_value, text)
    text = _ENCODED_TEXT_RE.sub(_mask_value, text)
    text = _PLAIN_TEXT_RE.sub(_mask_value, text)
    text = _ALI_UID_TEXT_RE.sub(_mask_uid_match, text)
    # Literal secrets last and in one pass: no later step can re-create one, and a secret
    # that happens to contain a name such as "auth" cannot hide an auth_key value.
    variants = _secret_variants(secrets)
    if variants:
        pattern = re.compile("|".join(re.escape(v) for v in variants))
        text = pattern.sub(MASK, text)
    return text
