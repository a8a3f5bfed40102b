"""Masking of secrets (stream tokens, URL passwords, account ids, STS tokens) for every output.

One rule, applied by every view, format and log: what is a secret is decided here and nowhere
else. A pulled stream URL carries a live ``auth_key`` token that lets anyone pull the stream, a
callback or push URL may carry one too, a URL may hold ``user:password@``, and ``aliUid`` is the
account id: all of these are masked everywhere unless the user explicitly reveals them. Every
function here is total: junk input comes back masked as well as it can be, never as an
exception, because redaction runs inside error handling and logging where a raise would hide
the original problem.

What is masked
    - in a URL, anywhere in a string: the password of ``scheme://user:password@host`` (the user
      name stays, to tell accounts apart), and the value of every query or fragment parameter
      whose name says it is a secret (`is_secret_name`: ``auth_key``, ``token``, ``sign``,
      ``txSecret``, ``password``...); ``aliUid`` keeps its last 4 characters;
    - URLs nested in URLs, percent-encoded once or several times, as the server would decode
      them, and URLs inside JSON text held in a string;
    - in free text (log lines, error messages), ``name=value`` and ``"name": "value"`` pairs
      with a secret name, and literal secrets handed in (the AccessKey secret, the STS token,
      also percent-encoded or escaped);
    - in a task object, the value of every member with a secret name, at any depth.

Two matching modes exist because the end of a value differs by context. In a string that is a
URL, the value of ``auth_key`` runs to the next ``&`` or ``#`` (what the server reads); in free
text it also ends at whitespace and quotes.

Over 450 lines, and one thing: the rule of what is a secret. URL, free-text and object masking
share the secret names and where a value ends; split, they would drift apart, which is the very
defect this module is here to prevent.
"""

from __future__ import annotations

import dataclasses
import difflib
import functools
import json
import operator
import re
from collections.abc import Iterable, Mapping, Sequence, Set
from typing import Any
from urllib.parse import quote, quote_plus, unquote

from asrtui.jsontext import RawJSON
from asrtui.models import Task

__all__ = [
    "MASK",
    "is_secret_name",
    "mask_account_id",
    "mask_stream_url",
    "mask_url",
    "redact_task",
    "redact_task_dict",
    "redact_task_dicts_in_place",
    "redact_text",
    "redact_value",
    "stream_host_path",
]

#: What every masked value is replaced with.
MASK = "****"

# How many URLs-in-URLs (or encodings of encodings) are unwrapped: more is not a real URL.
_MAX_DEPTH = 6

# Normalized names (lower case, percent-decoded, letters and digits only) whose values are
# secrets whatever the context.
_SECRET_NAMES = frozenset(
    {
        "auth",
        "authkey",
        "key",
        "apikey",
        "sign",
        "sig",
        "signature",
        "token",
        "secret",
        "pass",
        "password",
        "passwd",
        "pwd",
        "accesskeysecret",
        "securitytoken",
        "xacssecuritytoken",
        "authorization",
        "credential",
        "credentials",
    }
)
# Parts of a normalized name that make it a secret (``access_token``, ``txSecret``, ``wsSecret``).
_SECRET_PARTS = ("authkey", "token", "secret", "passw", "signature", "apikey", "privatekey")
# ...unless the name ends with one of these: ``SignatureMethod``, ``SignatureNonce``... are not.
_NOT_SECRET_ENDS = ("method", "version", "nonce", "type", "expires", "expiry", "expiration")
# Names a free-text ``name: value`` (no quotes, a colon) is masked for: prose such as
# "token: expired, sign in again" must stay readable, so only unmistakable names count there.
_STRICT_NAMES = frozenset(
    {"authkey", "accesskeysecret", "securitytoken", "xacssecuritytoken", "password", "passwd"}
)
_UID_NAMES = frozenset({"aliuid"})

_NON_ALNUM_RE = re.compile(r"[^a-z0-9]")
# A string without any of these holds no URL, no ``name=value`` and no escape: nothing to mask.
_SUSPECT_RE = re.compile(r"[/%=:@\\]")
# A string of digits, ``T``/``Z`` and time punctuation only (``2026-05-15T10:00:00+08:00``):
# its one suspect character is ``:``, and no unquoted ``name: value`` can name a secret
# without letters, so it is returned as it is without the free-text passes.
_TIME_LIKE_RE = re.compile(r"[0-9:TZ+\-. ]*")
# A string that is a URL: a scheme and ``//`` (or a protocol-relative ``//``) at its start.
_URL_START_RE = re.compile(r"(?i)^\s*(?:[a-z][a-z0-9+.\-]*:)?//")
# A URL inside free text, to the next whitespace, quote or bracket.
_URL_IN_TEXT_RE = re.compile(r"(?i)(?:[a-z][a-z0-9+.\-]*:)?//[^\s\"'<>`\\]+")
# ``//user:password@`` in free text, also escaped once or more (``\/\/`` in JSON, ``\\/\\/`` in
# the ``repr`` of that JSON); the password may hold ``@``.
_USERINFO_TEXT_RE = re.compile(r"((?:\\*/){2}[^/?#\s@:\"'<>\\]*:)([^/?#\s\"'<>\\]*)@")
# ``name=value``, ``name: value``, ``"name": "value"`` (quotes escaped too: JSON in JSON) in free
# text; the name is judged by `is_secret_name` (or `_STRICT_NAMES`) in `_masked_value`.
_PAIR_TEXT_RE = re.compile(
    r"(?i)(?<![A-Za-z0-9_%\-])((?:[a-z0-9]|%5f|[_.\-])+)"
    r"((?:\\*[\"'])?[ \t]*([:=])[ \t]*((?:\\*[\"'])?))"
    r"([^\s\"'<>&#\\,;)}\]]*)"
)
# A URL's scheme and ``//``, or a protocol-relative ``//``.
_SCHEME_RE = re.compile(r"(?i)(?:[a-z][a-z0-9+.\-]*:)?//")
# A whitespace-separated word holding a percent escape: decoded and masked as a whole.
_ENCODED_WORD_RE = re.compile(r"[^\s\"'<>]*%[0-9A-Fa-f]{2}[^\s\"'<>]*")


#: Names judged and normalised are remembered: a task list repeats the same dozen member and
#: parameter names thousands of times. Bounded, so a server inventing names costs no memory.
_NAME_CACHE = 4096


@functools.lru_cache(maxsize=_NAME_CACHE)
def _normal(name: str) -> str:
    return _NON_ALNUM_RE.sub("", unquote(name).lower())


def is_secret_name(name: object) -> bool:
    """Whether a parameter or member called ``name`` holds a secret (``auth_key``, ``token``).

    The name is compared lower case, percent-decoded and without separators, so ``auth_key``,
    ``Auth-Key``, ``auth%5Fkey`` and ``AuthKey`` are the same name. A name is a secret when it
    is one of the known names (``auth``, ``key``, ``sign``, ``password``...) or contains
    ``token``, ``secret``, ``password``, ``signature``, ``authkey`` or ``apikey``, unless it
    names a property of one (``SignatureMethod``, ``tokenType``).
    """
    if not isinstance(name, str):
        return False
    return _is_secret_normal(_normal(name))


@functools.lru_cache(maxsize=_NAME_CACHE)
def _is_secret_normal(normal: str) -> bool:
    if normal in _SECRET_NAMES:
        return True
    if normal.endswith(_NOT_SECRET_ENDS):
        return False
    return any(part in normal for part in _SECRET_PARTS)


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


def _mask_userinfo(base: str) -> str:
    """``scheme://user:****@host/path`` from ``base`` (a URL without query and fragment)."""
    start = base.find("//")
    if start < 0:
        return base
    authority_start = start + 2
    end = base.find("/", authority_start)
    end = len(base) if end < 0 else end
    authority = base[authority_start:end]
    userinfo, at, host = authority.rpartition("@")
    if not at:
        return base
    user, colon, password = userinfo.partition(":")
    if not colon or not password:
        return base
    return base[:authority_start] + user + ":" + MASK + "@" + host + base[end:]


def _encode_like(text: str, original: str) -> str:
    """Percent-encode ``text`` again, leaving as they are the characters ``original`` had plain.

    A nested URL keeps its look (``next=http%3A%2F%2Fh%3Fauth_key%3D****``) and an ``&`` that
    was encoded stays encoded, so the outer URL keeps its parameters.
    """
    plain = "".join(sorted({c for c in original if c != "%" and c.isascii()}))
    return quote(text, safe=plain + "*")


def _mask_component(value: str, depth: int) -> str:
    """A parameter value or path: masked as it is, then as the server decodes it."""
    out = _mask_any(value, depth + 1)
    if "%" in out and depth < _MAX_DEPTH:
        decoded = unquote(out)
        if decoded != out:
            masked = _mask_any(decoded, depth + 1)
            if masked != decoded:
                # Something secret was hidden by the encoding: encode the masked text again.
                out = _encode_like(masked, out)
    return out


def _mask_params(part: str, depth: int) -> str:
    """Mask the secret values of a ``&``-separated list, reading names as a server does."""
    params = part.split("&")
    for index, param in enumerate(params):
        name, sep, value = param.partition("=")
        if not sep:
            params[index] = _mask_component(param, depth) if param else param
        elif not value:
            continue
        elif is_secret_name(name):
            params[index] = name + sep + MASK
        elif _normal(name) in _UID_NAMES:
            params[index] = name + sep + mask_account_id(unquote(value))
        else:
            params[index] = name + sep + _mask_component(value, depth)
    return "&".join(params)


#: How a member or parameter name is masked (`_redact_flat`, `_mask_plain_url`), by name:
#: bounded, so that a server inventing names costs no memory. A name is ``aliUid`` (`_UID`),
#: a secret (`_SECRET`, `is_secret_name`) or neither; no name is both.
_NAME_KINDS: dict[str, int] = {}
_PLAIN, _UID, _SECRET = 0, 1, 2


def _name_kind(name: str) -> int:
    normal = _normal(name)
    kind = _UID if normal in _UID_NAMES else _SECRET if _is_secret_normal(normal) else _PLAIN
    if len(_NAME_KINDS) < _NAME_CACHE:
        _NAME_KINDS[name] = kind
    return kind


def _mask_url(url: str, depth: int) -> str:
    """URL mode: the userinfo password, path parameters, query and fragment parameters."""
    plain = _mask_plain_url(url)
    if plain is not None:
        return plain
    return _mask_url_fully(url, depth)


def _mask_plain_url(url: str) -> str | None:
    """`_mask_url` for the usual URL, in one pass; ``None`` for any other.

    The usual URL (``http://host/path?auth_key=...&k=v``) has no fragment, no ``@``, ``=`` or
    ``%`` before its query, and each of its parameters either has a secret name, is
    ``aliUid``, or has a name and a value without a character `_mask_any` would look into
    (``/%=:@\\``). For such a URL every step of `_mask_url_fully` comes to this at any depth:
    the part before the query as it is, each secret value masked, each ``aliUid`` shortened,
    the rest as they are. A console and a listing mask one or two such URLs per task, tens of
    thousands of them a refresh.
    """
    if "#" in url:
        return None
    base, question, query = url.partition("?")
    if "@" in base or "=" in base or "%" in base or base.lstrip().startswith(("{", "[")):
        return None
    if not query:
        return url
    params = query.split("&")
    kinds = _NAME_KINDS
    for at, param in enumerate(params):
        name, sep, value = param.partition("=")
        if not sep:
            if _SUSPECT_RE.search(param) is not None:
                return None
            continue
        if not value:
            continue
        kind = kinds.get(name)
        if kind is None:
            kind = _name_kind(name)
        if kind == _SECRET:
            params[at] = name + "=" + MASK
        elif kind == _UID:
            params[at] = name + "=" + mask_account_id(unquote(value))
        elif _SUSPECT_RE.search(value) is not None:
            return None
    return base + question + "&".join(params)


def _mask_url_fully(url: str, depth: int) -> str:
    """`_mask_url` for any URL: nested, encoded, with a password or odd parameters."""
    head, hash_sign, fragment = url.partition("#")
    base, question, query = head.partition("?")
    # The scheme's and the port's colons are no ``name: value``: only ``;name=value`` counts.
    base = _mask_text(_mask_userinfo(base), depth + 1, in_url=True)
    if query:
        query = _mask_params(query, depth)
    if fragment:
        fragment = _mask_params(fragment, depth)
    return base + question + query + hash_sign + fragment


def _masked_value(match: re.Match[str]) -> str | None:
    """What the value of a ``name=value`` match becomes, or None when its name is no secret."""
    name, between, separator, quote_mark, value = match.groups()
    if not value:
        return None
    normal = _normal(name)
    if normal in _UID_NAMES:
        return mask_account_id(value)
    # ``token: expired`` in prose is not a secret; ``token=...`` and ``"token": "..."`` are.
    strict = separator == ":" and not quote_mark and '"' not in between and "'" not in between
    secret = normal in _STRICT_NAMES if strict else is_secret_name(name)
    return MASK if secret else None


def _mask_pairs(text: str) -> str:
    """Mask the secret ``name=value`` pairs of ``text``.

    Every value is searched again for pairs, masked or not: ``KeyError: 'auth_key=...'`` masks
    the ``auth_key``, and in ``KEY= "auth_key": "v"`` the value the first pair seems to have is
    the name of the next, whose value is masked too (two masked values that overlap become
    one ``****``).
    """
    edits: list[list[Any]] = []  # [start, end, replacement], in order, never overlapping
    position = 0
    while (match := _PAIR_TEXT_RE.search(text, position)) is not None:
        replacement = _masked_value(match)
        if replacement is not None:
            start, end = match.span(5)
            if edits and start < edits[-1][1]:
                edits[-1][1] = max(edits[-1][1], end)
                edits[-1][2] = MASK
            else:
                edits.append([start, end, replacement])
        position = match.end(2)
    parts: list[str] = []
    position = 0
    for start, end, replacement in edits:
        parts.append(text[position:start] + replacement)
        position = end
    parts.append(text[position:])
    return "".join(parts)


def _mask_encoded_word(match: re.Match[str], depth: int) -> str:
    word = match.group(0)
    decoded = unquote(word)
    if decoded == word:
        return word
    masked = _mask_text(decoded, depth + 1)
    return word if masked == decoded else _encode_like(masked, word)


def _mask_json(text: str, depth: int) -> str | None:
    """JSON text (an object or an array) with every secret masked, or None if it is not JSON."""
    stripped = text.strip()
    if not stripped.startswith(("{", "[")) or depth >= _MAX_DEPTH:
        return None
    try:
        value = json.loads(stripped)
    except (ValueError, RecursionError):
        return None
    if not isinstance(value, (dict, list)):
        return None
    masked = _redact_tree({"": value}, depth + 1)[""]
    if masked == value:
        return text
    return json.dumps(masked, ensure_ascii=False)


def _mask_text(text: str, depth: int, *, in_url: bool = False) -> str:
    """Free-text mode: URLs inside the text, ``name=value`` pairs, percent-encoded words.

    ``in_url``: ``text`` is the part of a URL before its query, already read as a URL.
    """
    if depth > _MAX_DEPTH:
        return text
    as_json = _mask_json(text, depth)
    if as_json is not None:
        return as_json
    if not in_url and "//" in text:
        text = _URL_IN_TEXT_RE.sub(lambda m: _mask_url(m.group(0), depth + 1), text)
    if "@" in text:
        text = _USERINFO_TEXT_RE.sub(lambda m: m.group(1) + MASK + "@", text)
    if "=" in text or (not in_url and ":" in text):
        text = _mask_pairs(text)
    if "%" in text:
        text = _ENCODED_WORD_RE.sub(lambda m: _mask_encoded_word(m, depth), text)
    return text


def _mask_any(value: str, depth: int) -> str:
    if depth > _MAX_DEPTH or _SUSPECT_RE.search(value) is None:
        return value  # no URL, no pair, no escape: most cells of the table
    if _TIME_LIKE_RE.fullmatch(value):
        return value  # a time: its colons start no secret
    if _URL_START_RE.match(value):
        return _mask_url(value, depth)
    return _mask_text(value, depth)


def mask_url(value: str) -> str:
    """Mask every secret in a string field: a URL, a URL in text, nested or encoded URLs.

    This is the one function every view, export and copy uses for a string a server sent: a
    string that is a URL is read as a URL (a parameter runs to ``&`` or ``#``), any other
    string as free text that may hold URLs and JSON. The user name of a URL, its host, path
    and other parameters stay readable.

    Args:
        value: any string; never raises (a non-string comes back as ``****``).

    Returns:
        The string with each secret value replaced by ``****``.
    """
    if not isinstance(value, str):  # defensive: called from error paths with whatever arrived
        return MASK
    return _mask_any(value, 0)


#: The older name of `mask_url`, for stream URLs.
mask_stream_url = mask_url


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


def _redact_tree(raw: Mapping[str, Any], depth: int) -> dict[str, Any]:
    result: dict[str, Any] = {}
    # Each entry: a source container and the fresh container to fill from it.
    stack: list[tuple[Any, Any]] = [(raw, result)]
    while stack:
        source, target = stack.pop()
        items: Iterable[tuple[Any, Any]]
        items = source.items() if isinstance(source, Mapping) else enumerate(source)
        for key, value in items:
            new: Any
            kind = type(value)
            if kind is str:  # most members: the checks below, in the same order, made cheaply
                normal = _normal(key) if isinstance(key, str) else None
                if normal is not None and normal in _UID_NAMES:
                    new = mask_account_id(value)
                elif normal is not None and value and _is_secret_normal(normal):
                    new = MASK
                elif _SUSPECT_RE.search(value) is None:
                    new = value  # `_mask_any`'s first test, without the call
                else:
                    new = _mask_any(value, depth)
            elif kind is int or kind is float or kind is bool or value is None:
                uid = isinstance(key, str) and _normal(key) in _UID_NAMES
                new = mask_account_id(value) if uid and value is not None else value
            elif isinstance(value, RawJSON):
                # Kept as text for its depth: mask the value it was made of and write it again.
                new = RawJSON.of(redact_task_dict({"": value.value})[""])
            elif isinstance(value, Mapping):
                new = {}
                stack.append((value, new))
            elif isinstance(value, (list, tuple)):
                new = [None] * len(value)
                stack.append((value, new))
            elif isinstance(key, str) and _normal(key) in _UID_NAMES:
                new = mask_account_id(value) if value is not None else None
            elif isinstance(key, str) and isinstance(value, str) and value and is_secret_name(key):
                new = MASK
            elif isinstance(value, str):
                new = _mask_any(value, depth)
            else:
                new = value
            target[key] = new
    return result


def redact_task_dict(raw: Mapping[str, Any]) -> dict[str, Any]:
    """Deep copy of a wire task object with every secret masked, for every view and export.

    ``aliUid`` (at any depth) keeps its last 4 characters; a string member with a secret name
    (``authKey``, ``token``) is masked whole; every other string goes through `mask_url`, so a
    URL in any field, known or not, at any depth, has its secrets masked. The walk is iterative
    so that deeply nested junk cannot exhaust the stack.

    Args:
        raw: the task object as received.

    Returns:
        A new dict; ``raw`` is not modified.
    """
    flat = _redact_flat(raw)
    return flat if flat is not None else _redact_tree(raw, 0)


#: Strings masked lately, by what was received: a callback URL or a time that every task of a
#: listing repeats is masked once. Emptied when full, so it stays small whatever arrives.
_MASKED: dict[str, str] = {}
_MASKED_SIZE = 4096


def _redact_flat(raw: Mapping[str, Any]) -> dict[str, Any] | None:
    """`_redact_tree` for a task object of text, numbers, booleans and nulls; else ``None``.

    The same checks in the same order, a member name judged once per listing rather than once
    per task: the usual task object, masked tens of thousands of times a refresh.
    """
    if type(raw) is not dict:
        return None
    result: dict[str, Any] = {}
    kinds = _NAME_KINDS
    memo = _MASKED
    for key, received in raw.items():
        if type(key) is not str:
            return None
        value = received
        kind = kinds.get(key)
        if kind is None:
            kind = _name_kind(key)
        kind_of_value = type(value)
        if kind_of_value is str:
            if kind == _UID:
                value = mask_account_id(value)
            elif kind == _SECRET and value:
                value = MASK
            elif _SUSPECT_RE.search(value) is None or _TIME_LIKE_RE.fullmatch(value):
                pass  # `_mask_any`'s first two tests, without the call: most members
            else:
                masked = memo.get(value)
                if masked is None:
                    if value.startswith(("http://", "https://")):  # `_mask_any` would go
                        masked = _mask_plain_url(value)  # to `_mask_url` at once
                    if masked is None:
                        masked = _mask_any(value, 0)
                    if len(memo) >= _MASKED_SIZE:
                        memo.clear()
                    memo[value] = masked
                value = masked
        elif kind_of_value is int or kind_of_value is float or kind_of_value is bool:
            if kind == _UID:
                value = mask_account_id(value)
        elif value is not None:
            return None  # a container, or what a decoder never makes: the full walk
        result[key] = value
    return result


def redact_value(value: Any) -> Any:
    """`mask_url` for a string; any container (a mapping, list, tuple, `RawJSON`) walked whole.

    For a field of any type (a tuple of target languages, an unknown member's value); the walk
    is `redact_task_dict`'s, so what it masks at any depth is masked here too.
    """
    if isinstance(value, str):
        return mask_url(value)
    if isinstance(value, (Mapping, list, tuple, RawJSON)):
        masked = redact_task_dict({"": value})[""]
        return tuple(masked) if isinstance(value, tuple) else masked
    return value


def redact_task(task: Task) -> Task:
    """The task as every view shows it unless secrets are revealed: each field masked.

    Every string field (the stream and callback URLs, and the tag, the mode... as any of them
    may hold a URL) goes through `mask_url`, ``ali_uid`` keeps its last 4 characters, and the
    unknown members and the raw object go through `redact_task_dict`. A field added to `Task`
    later is masked by the same walk. The table, the detail pane, the copies, the exports and
    the command line's formats all show this value, so one rule decides what they show.
    """
    changes: dict[str, Any] = {}
    for item in dataclasses.fields(task):
        value = getattr(task, item.name)
        masked: Any = mask_account_id(value) if item.name == "ali_uid" else redact_value(value)
        # A mapping is never compared: ``==`` on a deeply nested one recurses (and it is a
        # fresh copy anyway). Strings and tuples of strings compare cheaply.
        if isinstance(value, Mapping) or (masked is not value and masked != value):
            changes[item.name] = masked
    return dataclasses.replace(task, **changes) if changes else task


_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f-\x9f]+")


def _secret_variants(secrets: Iterable[str]) -> list[str]:
    """The secrets as given, percent-encoded, escaped, and their parts around control characters.

    A value with a stray CR or LF may show up escaped (``'abc\\r\\n'`` in a ``repr``) or cut at
    the control character, so each of those forms is matched too.
    """
    variants: set[str] = set()
    for secret in secrets:
        if not isinstance(secret, str) or not secret:
            continue
        forms = {secret, secret.strip(), repr(secret)[1:-1]}
        forms.update(part for part in _CONTROL_RE.split(secret) if len(part) >= 6)
        with_escapes = secret.encode("unicode_escape", "backslashreplace")
        forms.add(with_escapes.decode("ascii", "replace"))
        for form in forms:
            if form:
                variants.add(form)
                variants.add(quote(form, safe=""))
                variants.add(quote_plus(form, safe=""))
    # Longest first, so a secret that contains another is replaced whole.
    return sorted(variants, key=len, reverse=True)


@functools.lru_cache(maxsize=8)
def _secrets_pattern(secrets: tuple[str, ...]) -> re.Pattern[str] | None:
    """One pattern matching every variant of ``secrets``, ``None`` for none.

    Kept for the few sets of secrets a process masks (those in use change on a renewal): a
    journal masks every string of every event with them, 10,000 events when an account of
    10,000 tasks is first listed, and building the variants each time was most of that work.
    """
    variants = _secret_variants(secrets)
    return re.compile("|".join(re.escape(v) for v in variants)) if variants else None


def redact_text(text: str, secrets: Iterable[str] = ()) -> str:
    """Replace each non-empty secret, and every secret that `mask_url` finds, with ``****``.

    For log lines and error messages. Besides the given ``secrets`` (an AccessKey secret, an STS
    token; also matched percent-encoded or escaped), every URL in the text has its secrets
    masked, ``name=value`` pairs with a secret name (``auth_key``, ``SecurityToken``,
    ``AccessKeySecret``...) are masked, and an ``aliUid`` keeps only its last 4 characters.
    The secrets are replaced last and in one pass, so no secret that contains no ``*`` can
    survive.

    Args:
        text: the text to clean; never raises.
        secrets: literal secret strings to remove.

    Returns:
        The cleaned text.
    """
    if not isinstance(text, str):
        return MASK
    pattern = _secrets_pattern(tuple(s for s in secrets if isinstance(s, str) and s))
    if pattern is None:
        return _mask_text(text, 0)
    found = [match.span() for match in pattern.finditer(text)]
    syntax = _syntax_spans(text) if found else []
    if any(start < stop and begin < end for start, end in found for begin, stop in syntax):
        # A secret overlaps what the patterns read (a secret ``t`` inside ``auth_key=``, or a
        # token that holds ``Token=``): masking either first would hide the other from it, so
        # both are found in the text as it is, and every character either would mask is masked.
        text = _mask_spans(text, [*found, *_pattern_spans(text)])
    else:
        # Literal secrets first, so that no pattern can cut one and leave a piece behind.
        text = _mask_text(pattern.sub(MASK, text), 0)
    # And last, so that no step can re-create one.
    return pattern.sub(MASK, text)


def _syntax_spans(text: str) -> list[tuple[int, int]]:
    """Where ``text`` holds what the patterns read: parameter names, separators, URL prefixes."""
    spans = [(m.start(1), m.end(2)) for m in _PAIR_TEXT_RE.finditer(text)]
    for m in _USERINFO_TEXT_RE.finditer(text):
        spans += [(m.start(1), m.end(1)), (m.end(2), m.end())]
    spans += [m.span() for m in _SCHEME_RE.finditer(text)]
    return spans


def _pattern_spans(text: str) -> list[tuple[int, int]]:
    """The parts of ``text`` that `_mask_text` masks (or rewrites), as spans of ``text``."""
    masked = _mask_text(text, 0)
    matcher = difflib.SequenceMatcher(None, text, masked, autojunk=False)
    return [(i1, i2) for tag, i1, i2, _, _ in matcher.get_opcodes() if tag != "equal" and i2 > i1]


def _mask_spans(text: str, spans: Iterable[tuple[int, int]]) -> str:
    """``text`` with each run of characters covered by ``spans`` replaced by one ``****``."""
    covered = [False] * len(text)
    for start, end in spans:
        covered[start:end] = [True] * (end - start)
    parts: list[str] = []
    position = 0
    while position < len(text):
        run_start = position
        masked = covered[position]
        while position < len(text) and covered[position] == masked:
            position += 1
        parts.append(MASK if masked else text[run_start:position])
    return "".join(parts)


# -- many flat task objects at once -----------------------------------------------------------

#: Value types `redact_task_dicts_in_place` masks column by column (what `_redact_flat` takes).
_FLAT_VALUE_TYPES = frozenset({str, int, float, bool, type(None)})
#: The characters `_SUSPECT_RE` looks for, tested with ``in`` on a whole column at memchr speed.
_SUSPECT_CHARS = "/%=:@\\"
#: The value types of a column all text.
_TEXT_ONLY: frozenset[type] = frozenset({str})


def redact_task_dicts_in_place(objects: list[Any], *, exact_scalars: bool = False) -> None:
    """Make each item ``redact_task_dict(item)``, changing the flat objects themselves.

    For a listing's task objects freshly decoded, that nothing else holds: the usual answer's
    tens of thousands of objects share a few member names, and most members (ids, modes,
    times) hold nothing to mask, which one search over a whole column of a batch says at C
    speed instead of one test per member. A column that needs masking is masked once per
    distinct value (a callback URL that every task repeats), else value by value. An item
    that is not a flat object (a container inside, a key that is not text) is replaced by
    `redact_task_dict`'s copy. The result is `redact_task_dict`'s, member for member.

    ``exact_scalars``: the caller vouches that every member value of a dict item is exactly a
    `str`, `int`, `bool` or ``None`` (what a decoder typed so gives, never a subclass). A
    column is then known to be all text when its text joins, without the type of each value
    taken (a third of the time of the rest of the masking).
    """
    groups: dict[tuple[Any, ...], list[int]] = {}
    shapes = [tuple(obj) if type(obj) is dict else None for obj in objects]
    first = shapes[0] if shapes else None
    if first is not None and shapes.count(first) == len(shapes):
        groups[first] = list(range(len(objects)))
    else:
        for index, shape in enumerate(shapes):
            if shape is None:
                objects[index] = redact_task_dict(objects[index])
            else:
                groups.setdefault(shape, []).append(index)
    for names, indexes in groups.items():
        members = [objects[index] for index in indexes]
        if not _mask_columns(names, members, exact_scalars):
            for index in indexes:
                objects[index] = redact_task_dict(objects[index])


def _mask_columns(
    names: tuple[Any, ...], members: list[dict[str, Any]], exact_scalars: bool = False
) -> bool:
    """Mask objects that all have the member ``names`` in this order; ``False``: not flat.

    ``exact_scalars``: as `redact_task_dicts_in_place` takes it.
    """
    if not names:
        return True
    if any(type(name) is not str for name in names):
        return False
    if len(names) == 1:
        columns: list[tuple[Any, ...]] = [tuple(obj[names[0]] for obj in members)]
    else:
        getter = operator.itemgetter(*names)
        columns = list(zip(*map(getter, members), strict=True))
    texts: list[str | None] = [None] * len(columns)
    if exact_scalars:
        typed: list[Set[type]] = []
        for at, column in enumerate(columns):
            try:  # values of exact types only: a column that joins is all `str`
                texts[at] = "".join(column)
            except TypeError:
                typed.append(set(map(type, column)))
            else:
                typed.append(_TEXT_ONLY)
    else:
        typed = [set(map(type, column)) for column in columns]
    if any(not kinds <= _FLAT_VALUE_TYPES for kinds in typed):
        return False
    for name, column, kinds, joined in zip(names, columns, typed, texts, strict=True):
        kind = _NAME_KINDS.get(name)
        if kind is None:
            kind = _name_kind(name)
        masked = _masked_column(column, kind, kinds, joined)
        if masked is not None:
            for obj, value in zip(members, masked, strict=True):
                obj[name] = value
    return True


def _masked_column(
    column: tuple[Any, ...], kind: int, kinds: Set[type], joined: str | None = None
) -> list[Any] | None:
    """A column's values as `_redact_flat` masks them, or ``None`` when none changes.

    ``joined``: the column's text joined already, when it is all text.
    """
    if kind == _UID:
        if kinds == {str}:
            shown = {uid: mask_account_id(uid) for uid in set(column)}
            return [shown[uid] for uid in column]
        return [None if value is None else mask_account_id(value) for value in column]
    if str not in kinds:
        return None
    if kind == _SECRET:
        return [MASK if type(value) is str and value else value for value in column]
    texts = column if kinds == {str} else [value for value in column if type(value) is str]
    if joined is None or texts is not column:
        joined = "".join(texts)
    # Each test is one of a character class: the joined text passes if and only if each does.
    if not any(char in joined for char in _SUSPECT_CHARS) or _TIME_LIKE_RE.fullmatch(joined):
        return None
    distinct = set(texts)
    if len(distinct) * 2 <= len(texts):  # a callback URL that every task repeats
        shown = {text: _mask_member(text) for text in distinct}
        if all(shown[text] is text for text in distinct):
            return None
        masked = [shown[text] for text in texts]
    else:  # a stream URL with each task's own token
        found = _one_secret_param_urls(texts, joined)
        masked = found if found is not None else [_mask_member(text) for text in texts]
    if texts is column:
        return masked
    replaced = iter(masked)
    return [next(replaced) if type(value) is str else value for value in column]


#: A line that is the usual stream URL: ``http(s)://`` and a base without ``#@=%?``, then one
#: query parameter (no ``&`` or ``#``) with a value. Group 1 is all of it up to the value,
#: group 2 the parameter's name.
_ONE_PARAM_URL_RE = re.compile(r"^(https?://[^#@=%?\n]*\?([^&#=\n]*)=)[^&#\n]+$", re.MULTILINE)


def _one_secret_param_urls(texts: Sequence[str], joined: str) -> list[str] | None:
    """``[_mask_member(text) for text in texts]`` when every text is the usual stream URL.

    That is ``http(s)://`` and a base holding none of ``#@=%?``, then one parameter with a
    secret name (``auth_key``) and a value: `_mask_plain_url` keeps all of it up to the value,
    which becomes `MASK`. One search over the texts joined line by line finds them all (a
    text with a line break of its own, or any text of another shape, and ``None`` is
    returned: each is then masked alone). ``joined`` is the texts joined with nothing between.
    """
    if "\n" in joined:
        return None
    found = _ONE_PARAM_URL_RE.findall("\n".join(texts))
    if len(found) != len(texts):  # each match is one whole line: one per text, or not all
        return None
    kinds = _NAME_KINDS
    for name in {name for _, name in found}:
        kind = kinds.get(name)
        if kind is None:
            kind = _name_kind(name)
        if kind != _SECRET:
            return None
    return [kept + MASK for kept, _ in found]


def _mask_member(value: str) -> str:
    """A string member of a flat task object with a plain name, as `_redact_flat` masks it.

    An ``http(s)://`` value holds ``/`` and a letter, so it is never passed over as plain
    or time-like: it goes to `_mask_plain_url` at once, as in `_redact_flat`.
    """
    if value.startswith(("http://", "https://")):
        masked = _mask_plain_url(value)
        return _mask_any(value, 0) if masked is None else masked
    if _SUSPECT_RE.search(value) is None or _TIME_LIKE_RE.fullmatch(value):
        return value
    return _mask_any(value, 0)
