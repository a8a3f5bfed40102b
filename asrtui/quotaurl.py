"""The Redis URL of a quota shared across hosts: checked, its password split off and masked.

Its own module because the profiles, the command line and the composition root read and show
the URL (``shared_quota = "redis://..."``) without needing `asrtui.redisquota`'s client. The
password is a secret: `display_url` masks it for screens and logs, the profile store keeps it
apart from the URL (`split_password`, `with_password`), and no message here quotes a URL.
"""

from __future__ import annotations

from urllib.parse import quote, unquote, urlsplit, urlunsplit

from asrtui.errors import ConfigError

__all__ = [
    "ENV_VAR",
    "SCHEMES",
    "check_url",
    "display_url",
    "split_password",
    "url_password",
    "with_password",
]

#: The environment variable naming the Redis URL (the option and the profile setting win).
ENV_VAR = "ASRTUI_SHARED_QUOTA"
#: The URL schemes accepted: plain and TLS.
SCHEMES = ("redis", "rediss")


def check_url(url: str) -> str:
    """``url`` if it is a Redis URL this quota can use, else a `ConfigError` saying why.

    The message never quotes the URL: it may hold the password.

    Raises:
        ConfigError: not ``redis://`` or ``rediss://``, no host, a bad port or database.
    """
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        raise ConfigError(
            "The shared quota URL cannot be read",
            "give redis://[:password@]host[:port][/db] (or rediss:// for TLS)",
        ) from None
    if parts.scheme not in SCHEMES or not parts.hostname:
        raise ConfigError(
            "The shared quota URL must be redis://host[:port][/db] or rediss://...",
            "give the Redis URL, e.g. redis://:password@redis.example:6379/0",
        )
    del port
    db = parts.path.strip("/")
    if db and not db.isdigit():
        raise ConfigError(
            "The shared quota URL names a database that is not a number",
            "end the URL with /0 (or another database number), or with nothing",
        )
    return url.strip()


def url_password(url: str) -> str:
    """The password in a Redis URL (a secret), empty when it has none."""
    try:
        password = urlsplit(url).password
    except ValueError:
        return ""
    return unquote(password) if password else ""


def split_password(url: str) -> tuple[str, str]:
    """The URL without its password, and the password (empty when none).

    The profile store keeps the two apart: the URL with the settings, the password with the
    secrets. An unreadable URL is returned as it is (`check_url` says why elsewhere).
    """
    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError:
        return url, ""
    if password is None:
        return url, ""
    user, _, host = parts.netloc.rpartition("@")
    name = user.partition(":")[0]
    netloc = f"{name}@{host}" if name else host
    return urlunsplit(parts._replace(netloc=netloc)), unquote(password)


def with_password(url: str, password: str) -> str:
    """``url`` with ``password`` in it (replacing any); ``url`` unchanged when it is empty."""
    if not password:
        return url
    bare, _ = split_password(url)
    try:
        parts = urlsplit(bare)
    except ValueError:
        return url
    user, _, host = parts.netloc.rpartition("@")
    netloc = f"{user}:{quote(password, safe='')}@{host}"
    return urlunsplit(parts._replace(netloc=netloc))


def display_url(url: str) -> str:
    """The URL with its password masked (``redis://:****@host:6379/0``), for screens and logs."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port
    except ValueError:
        return "(a Redis URL that cannot be read)"
    if ":" in host:
        host = f"[{host}]"
    netloc = host if port is None else f"{host}:{port}"
    if parts.password is not None:
        netloc = f"{parts.username or ''}:****@{netloc}"
    elif parts.username:
        netloc = f"{parts.username}@{netloc}"
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))
