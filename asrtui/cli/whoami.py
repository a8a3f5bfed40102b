"""``asrtui whoami``: which credentials a command would use, and why those.

Like ``aws configure list``: the source that won, its mode, the AccessKey id masked, the
expiry of temporary credentials, and every source before it with why it was passed over. The
credentials are fetched once (a role is assumed, the metadata service asked) so that what is
printed is what a command would sign with; nothing secret is printed.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime

from asrtui.cli.connection import environment, resolve_connection
from asrtui.credentials import mask_secret
from asrtui.credentials.provider import CredentialsInfo, registering_secrets
from asrtui.printable import printable_line

__all__ = ["register", "run_whoami", "time_left"]


def register(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
    *,
    parents: Sequence[argparse.ArgumentParser] = (),
) -> None:
    """Add ``whoami`` to the root parser."""
    parser = subparsers.add_parser(
        "whoami",
        parents=list(parents),
        help="show which credentials are used (source, mode, key id masked, expiry) and why",
        description=(
            "Resolve the credentials as any command would, fetch them once, and show where "
            "they come from, the AccessKey id masked, when temporary ones expire, and why "
            "each earlier source of the chain was passed over. Nothing secret is shown."
        ),
    )
    parser.set_defaults(func=run_whoami)


def time_left(expiration: datetime, now: datetime) -> str:
    """``59 min``, ``2 h 05 min``, ``40 s`` or ``expired``: what is left, in words."""
    seconds = int((expiration - now).total_seconds())
    if seconds <= 0:
        return "expired"
    if seconds < 120:
        return f"{seconds} s"
    minutes = seconds // 60
    if minutes < 120:
        return f"{minutes} min"
    return f"{minutes // 60} h {minutes % 60:02d} min"


def describe(info: CredentialsInfo, *, now: datetime) -> list[tuple[str, str]]:
    """The lines of ``whoami`` for ``info`` (key, value), without the trail."""
    lines = [
        ("source", info.source or "?"),
        ("mode", info.mode),
        ("access key id", mask_secret(info.access_key_id) if info.access_key_id else "?"),
    ]
    if info.expiration is not None:
        when = info.expiration.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
        lines.append(("expires", f"{when} (in {time_left(info.expiration, now)})"))
    else:
        lines.append(("expires", "no expiry known (long-term or fixed credentials)"))
    if info.refresh_error:
        lines.append(("refresh failing", info.refresh_error))
    return lines


def run_whoami(args: argparse.Namespace) -> int:
    """``asrtui whoami``: exit 0, or the error's exit code (2 configuration, 1 a service)."""
    connection = resolve_connection(args, environment())
    if connection.demo or connection.credentials is None:
        print("source:        the built-in demo (asrtui --demo)")
        return 0
    provider = registering_secrets(connection.credentials)
    asyncio.run(provider.get())
    lines = [("profile", connection.profile_name)]
    lines += describe(provider.info(), now=datetime.now(UTC))
    lines += [("region", connection.settings.region), ("endpoint", connection.endpoint)]
    width = max(len(key) for key, _ in lines) + 1
    for key, value in lines:
        print(printable_line(f"{key + ':':<{width}} {value}"))
    if connection.trail:
        print("passed over:")
        for step in connection.trail:
            print(printable_line(f"  {step}"))
    return 0
