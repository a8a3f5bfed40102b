"""``asrtui profile ...``: add, list, show, remove, choose, test and import stored profiles.

Secrets never come from the command line (they would land in shell history and ``ps``): the
AccessKey secret is read from a hidden prompt, or from one line of stdin with ``--secret-stdin``
(then the STS token, with ``--sts-token-stdin``, from the next line). Output never shows a
secret or any part of it: ``show`` says whether one is set, ``list`` does not mention it.

A failure (`AsrtuiError`) is left to the composition root, which prints it as one line and
exits with its code; only ``test`` catches one, to say which profile failed.

Over 450 lines, and one thing: the ``profile`` subcommand group. Each subcommand is a short
function over the store, and their parsers sit together so that ``asrtui profile --help``
reads as one page; the rules of a profile as entered are `asrtui.profiles.entry`'s.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import shlex
import sys
from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

# The package, not its names: `asrtui.profiles` loads a module when one of its names is first
# used, so building the parser (every start, ``--demo`` too) loads only the defaults below.
import asrtui.profiles as _profiles
from asrtui.cli.connection import option
from asrtui.credentials import Credentials
from asrtui.endpoints import resolve_endpoint
from asrtui.errors import AsrtuiError, ConfigError
from asrtui.printable import printable_line
from asrtui.profiles.entry import COMMAND, mode_given
from asrtui.profiles.model import command_program
from asrtui.profiles.modes import MODE_RULES, ModeSettings, check_mode
from asrtui.redact import MASK, is_secret_name, redact_text
from asrtui.sessionsettings import (
    DEFAULT_RATE_LIMIT,
    DEFAULT_REFRESH,
    DEFAULT_REGION,
    DEFAULT_REQUEST_TIMEOUT,
    MAX_REQUEST_TIMEOUT,
    MIN_REQUEST_TIMEOUT,
    SIGNATURES,
)

if TYPE_CHECKING:
    from asrtui.connect import Connection
    from asrtui.profiles import Profile, ProfileSet

__all__ = ["register"]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``profile`` and its subcommands; each sets ``func(args) -> int`` (the exit code)."""
    parser = subparsers.add_parser(
        "profile",
        help="manage stored profiles (credentials, region, limits)",
        description="Manage the profiles stored in the asrtui config directory.",
    )
    parser.set_defaults(func=_usage(parser))
    commands = parser.add_subparsers(dest="profile_command", metavar="ACTION")

    add = commands.add_parser(
        "add",
        help="add a profile (the secret is prompted for, never an argument)",
        description=(
            "Add a profile. The AccessKey secret is read from a hidden prompt, or from one line"
            " of stdin with --secret-stdin; with --sts-token-stdin the STS token is read from"
            " the next line. Alternatively, --credential-command names a program that prints"
            " credentials as JSON (aliyun CLI External format). A shared quota's Redis password"
            " is read from the next line of stdin with --shared-quota-password-stdin, never"
            " from the URL."
        ),
    )
    add.add_argument("name", metavar="NAME")
    add.add_argument("--access-key-id", metavar="ID", help="the AccessKey id")
    add.add_argument(
        "--secret-stdin", action="store_true", help="read the secret from one line of stdin"
    )
    add.add_argument(
        "--sts-token-stdin",
        action="store_true",
        help="read an STS security token from stdin (the line after the secret, if both)",
    )
    add.add_argument(
        "--credential-command",
        metavar="CMD",
        help="program printing credentials JSON, run without a shell (instead of an AccessKey)",
    )
    modes = add.add_argument_group(
        "credential modes",
        "Instead of a stored AccessKey: "
        + "; ".join(f"{rule.mode}: {rule.summary}" for rule in MODE_RULES.values())
        + ". Settings are stored in config.toml; only RamRoleArn's source AccessKey is a "
        "secret (credentials.toml).",
    )
    modes.add_argument("--mode", metavar="MODE", help=", ".join(MODE_RULES))
    for flag, dest, text in _MODE_OPTIONS:
        modes.add_argument(flag, dest=dest, metavar=dest.split("_")[-1].upper(), help=text)
    modes.add_argument(
        "--duration",
        dest="expired_seconds",
        type=int,
        metavar="S",
        help="session duration in seconds, 900 up to the role's maximum (default 3600)",
    )
    modes.add_argument(
        "--vpc",
        dest="enable_vpc",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="use the VPC STS endpoint (sts-vpc.REGION.aliyuncs.com)",
    )
    add.add_argument("--region", metavar="ID", default=DEFAULT_REGION, help="default cn-shanghai")
    add.add_argument("--endpoint", metavar="URL", help="endpoint override")
    add.add_argument("--signature", choices=SIGNATURES, default="v3", help="default v3")
    add.add_argument(
        "--rate-limit",
        type=int,
        metavar="N",
        default=DEFAULT_RATE_LIMIT,
        help="calls per second, 1..20 (default 20; lower leaves room for other systems)",
    )
    add.add_argument(
        "--refresh",
        type=float,
        metavar="S",
        default=DEFAULT_REFRESH,
        help="seconds between refreshes (default 5)",
    )
    add.add_argument(
        "--request-timeout",
        type=float,
        metavar="S",
        default=DEFAULT_REQUEST_TIMEOUT,
        help=(
            f"seconds one request may take in all, connect to last byte "
            f"({MIN_REQUEST_TIMEOUT:g}..{MAX_REQUEST_TIMEOUT:g}, default "
            f"{DEFAULT_REQUEST_TIMEOUT:g})"
        ),
    )
    add.add_argument(
        "--read-only",
        dest="profile_read_only",
        action="store_true",
        help="the profile refuses stop, delete and every other change",
    )
    add.add_argument(
        "--shared-quota",
        metavar="URL",
        help="share the account's quota across hosts through Redis: redis://host[:port][/db] "
        "or rediss://, without the password",
    )
    add.add_argument(
        "--shared-quota-password-stdin",
        action="store_true",
        help="read the Redis password from stdin (the line after the secret and token, if any)",
    )
    add.add_argument("--default", action="store_true", help="make it the default profile")
    add.add_argument("--replace", action="store_true", help="overwrite an existing profile")
    add.set_defaults(func=run_add)

    listing = commands.add_parser("list", help="list profiles (the default is marked *)")
    listing.set_defaults(func=run_list)

    show = commands.add_parser("show", help="show one profile (secrets masked)")
    show.add_argument("name", metavar="NAME")
    show.set_defaults(func=run_show)

    remove = commands.add_parser("remove", help="delete a profile and its secrets")
    remove.add_argument("name", metavar="NAME")
    remove.set_defaults(func=run_remove)

    use = commands.add_parser("use", help="make a profile the default")
    use.add_argument("name", metavar="NAME")
    use.set_defaults(func=run_use)

    test = commands.add_parser("test", help="query the running tasks once with a profile")
    test.add_argument("name", metavar="NAME")
    test.set_defaults(func=run_test)

    imp = commands.add_parser(
        "import-aliyun",
        help="import the aliyun CLI's profiles (every mode but CloudSSO and OAuth)",
        description="Import profiles from the aliyun CLI's config.json (never modified).",
    )
    imp.add_argument("--file", metavar="PATH", type=Path, help="default ~/.aliyun/config.json")
    imp.add_argument("--only", metavar="NAME", help="import only this profile")
    imp.add_argument("--replace", action="store_true", help="overwrite profiles of the same name")
    imp.set_defaults(func=run_import_aliyun)


#: ``profile add`` options of the modes: flag, `ModeSettings` field, help.
_MODE_OPTIONS = (
    ("--role-arn", "ram_role_arn", "the RAM role to assume (acs:ram::ACCOUNT:role/NAME)"),
    ("--role-session-name", "ram_session_name", "names the session (default asrtui-TIME)"),
    ("--policy", "policy", "a policy narrowing the role's permissions (JSON)"),
    ("--external-id", "external_id", "the external id the role's trust policy asks for"),
    ("--source-profile", "source_profile", "ChainableRamRoleArn: the profile that signs"),
    ("--role-name", "ram_role_name", "EcsRamRole: the instance role (discovered if absent)"),
    ("--oidc-provider-arn", "oidc_provider_arn", "OIDC: acs:ram::ACCOUNT:oidc-provider/NAME"),
    ("--oidc-token-file", "oidc_token_file", "OIDC: the token file (read at each refresh)"),
    ("--credentials-uri", "credentials_uri", "CredentialsURI: http(s)://HOST/PATH"),
    ("--aliyun-profile", "aliyun_profile", "use this aliyun CLI profile, read each time"),
    ("--sts-endpoint", "sts_endpoint", "STS endpoint (default from --sts-region)"),
    ("--sts-region", "sts_region", "region of the STS endpoint (sts.REGION.aliyuncs.com)"),
)


def _mode_of(args: argparse.Namespace) -> ModeSettings | None:
    """The mode settings ``profile add`` was given, or None for a key or a command."""
    values: dict[str, Any] = {
        dest: getattr(args, dest)
        for _, dest, _ in _MODE_OPTIONS
        if getattr(args, dest, None) not in (None, "")
    }
    if args.expired_seconds is not None:
        values["expired_seconds"] = args.expired_seconds
    if args.enable_vpc is not None:
        values["enable_vpc"] = args.enable_vpc
    mode = args.mode or ("AliyunProfile" if "aliyun_profile" in values else None)
    if mode is None:
        if values:
            raise ConfigError(
                f"--{next(iter(values)).replace('_', '-')} needs --mode",
                "e.g. --mode RamRoleArn (see 'asrtui profile add --help')",
            )
        return None
    return ModeSettings(mode, **values)


def _usage(parser: argparse.ArgumentParser) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        parser.print_usage(sys.stderr)
        print("asrtui profile: error: choose an action (add, list, show, ...)", file=sys.stderr)
        return 2

    return run


# -- add -------------------------------------------------------------------------------------


def _stdin_line(what: str) -> str:
    line = sys.stdin.readline().strip()
    if not line:
        raise ConfigError(f"No {what} on stdin", f"pipe the {what} as one line")
    return line


def _prompt_secret() -> str:
    # Piped in without --secret-stdin: getpass would prompt on the terminal and ignore the
    # pipe, or with no terminal read it shown and print Python's GetPassWarning. Neither is
    # what was meant.
    if not sys.stdin.isatty():
        raise ConfigError(
            "The AccessKey secret is asked at a hidden prompt, and stdin is not a terminal",
            "to give it through a pipe, add --secret-stdin",
        )
    try:
        secret = getpass.getpass("AccessKey secret: ").strip()
    except (EOFError, KeyboardInterrupt):
        secret = ""
    if not secret:
        raise ConfigError(
            "No AccessKey secret entered", "type it at the prompt or use --secret-stdin"
        )
    return secret


def _shared_quota_of(args: argparse.Namespace) -> str | None:
    """``--shared-quota``, checked; a password in it is refused (it would land in history)."""
    url = option(args, "shared_quota")
    if url is None:
        if args.shared_quota_password_stdin:
            raise ConfigError(
                "--shared-quota-password-stdin needs --shared-quota",
                "give the Redis URL with --shared-quota redis://host:6379/0",
            )
        return None
    from asrtui.quotaurl import check_url, url_password

    url = check_url(url)
    if url_password(url):
        raise ConfigError(
            "The shared quota URL holds a password: on the command line it would land in the "
            "shell history and in ps",
            "give the URL without it and pipe the password with --shared-quota-password-stdin",
        )
    return url


def _new_profile(args: argparse.Namespace) -> Profile:
    """The profile the options describe, its secrets read last (see `_credentials_of`)."""
    profile = _credentials_of(args)
    if args.shared_quota_password_stdin and profile.shared_quota is not None:
        from asrtui.quotaurl import with_password

        password = _stdin_line("Redis password")
        profile = replace(profile, shared_quota=with_password(profile.shared_quota, password))
    return profile


def _credentials_of(args: argparse.Namespace) -> Profile:
    # Built (and so validated) before any prompt: a typo in --region should not cost a secret.
    base = _profiles.Profile(
        args.name,
        region=args.region,
        endpoint=args.endpoint,
        signature=args.signature,
        rate_limit=args.rate_limit,
        refresh=args.refresh,
        read_only=args.profile_read_only,
        request_timeout=args.request_timeout,
        shared_quota=_shared_quota_of(args),
    )
    mode = _mode_of(args)
    if mode is not None:
        # Checked (an unknown mode, CloudSSO, a missing --role-arn) before the secret is typed.
        mode = check_mode(
            mode,
            profile=args.name,
            has_key=bool(args.access_key_id),
            has_command=args.credential_command is not None,
        )
        if not args.access_key_id:
            return replace(base, mode=mode)
    given = {
        key
        for key, value in (
            ("command", args.credential_command is not None),
            ("access_key_id", args.access_key_id),
            ("secret", args.secret_stdin),
            ("token", args.sts_token_stdin),
        )
        if value
    }
    # The secret is prompted for when no option gives one: an AccessKey unless said otherwise.
    if mode_given(given, options=True) is COMMAND:
        return replace(base, credential_command=args.credential_command)
    key_id = (args.access_key_id or "").strip()
    if not key_id:
        raise ConfigError(
            "Missing --access-key-id",
            f"run: asrtui profile add {args.name} --access-key-id ID (the secret is prompted for)",
        )
    secret = _stdin_line("AccessKey secret") if args.secret_stdin else _prompt_secret()
    token = _stdin_line("STS token") if args.sts_token_stdin else ""
    return replace(base, credentials=Credentials(key_id, secret, token), mode=mode)


def run_add(args: argparse.Namespace) -> int:
    """``asrtui profile add``."""
    store = _profiles.ProfileStore()
    store.load()  # a refused or broken file is said before the secret is typed, not after
    profile = _new_profile(args)
    became_default = store.add(profile, make_default=args.default, replace=args.replace)
    note = " (default)" if became_default else ""
    print(f"Saved profile '{profile.name}'{note} in {store.directory}")
    return 0


# -- list / show -----------------------------------------------------------------------------


def _table(rows: list[list[str]]) -> list[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]


def run_list(args: argparse.Namespace) -> int:
    """``asrtui profile list``."""
    profiles = _profiles.ProfileStore().load()
    if not profiles.profiles:
        print("No profiles. Add one with: asrtui profile add NAME --access-key-id ID")
        return 0
    rows = [[" ", "NAME", "REGION", "SIGNATURE", "LIMIT", "MODE", "QUOTA", "CREDENTIALS"]]
    for name, profile in profiles.profiles.items():
        rows.append(
            [
                "*" if name == profiles.default else " ",
                name,
                profile.region,
                profile.signature,
                f"{profile.rate_limit}/s",
                "read-only" if profile.read_only else "read-write",
                _quota_where(profile),
                _profiles.credential_summary(profile),
            ]
        )
    for line in _table(rows):
        print(line)
    return 0


def _quota_where(profile: Profile) -> str:
    """Where the profile shares its quota: ``host``, or its Redis URL with the password masked."""
    if profile.shared_quota is None:
        return "host"
    from asrtui.quotaurl import display_url

    return display_url(profile.shared_quota)


def _shown_command(command: str) -> str:
    """A credential command with the values of its secret-looking options masked.

    ``--password=x`` goes through the one masking rule; the argument after an option named
    like a secret (``--secret x``, ``--token x``) is masked too. A command that does not parse
    shows its program only.
    """
    try:
        argv = shlex.split(command)
    except ValueError:
        return f"{command_program(command)} (arguments hidden)"
    shown: list[str] = []
    hide_next = False
    for arg in argv:
        if hide_next:
            shown.append(MASK)
            hide_next = False
            continue
        hide_next = arg.startswith("-") and "=" not in arg and is_secret_name(arg.lstrip("-"))
        shown.append(redact_text(arg))
    return " ".join(shown)


def _set_or_not(secret: str) -> str:
    return "set" if secret else "not set"


def _describe(profile: Profile, profiles: ProfileSet) -> list[tuple[str, str]]:
    endpoint = profile.endpoint or f"{resolve_endpoint(profile.region, None)} (from the region)"
    lines = [
        ("name", profile.name + (" (default)" if profile.name == profiles.default else "")),
        ("region", profile.region),
        ("endpoint", endpoint),
        ("signature", profile.signature),
        ("rate limit", f"{profile.rate_limit} calls/s"),
        ("refresh", f"{profile.refresh:g} s"),
        ("request timeout", f"{profile.request_timeout:g} s"),
        ("read-only", "yes" if profile.read_only else "no"),
    ]
    if profile.mode is not None:
        lines.append(("credentials", f"mode {profile.mode.mode}"))
        for key, value in profile.mode.items().items():
            if key != "mode":
                lines.append((key.replace("_", " "), str(value)))
    if profile.shared_quota is not None:
        from asrtui.quotaurl import display_url

        # The URL's password is a secret: masked like the AccessKey secret.
        lines.append(("shared quota", display_url(profile.shared_quota)))
    if profile.credential_command is not None:
        lines.append(("credentials", "external command"))
        lines.append(("command", _shown_command(profile.credential_command)))
    elif profile.credentials is not None:
        creds = profile.credentials
        lines.append(("credentials", "STS token" if creds.is_sts else "AccessKey"))
        lines.append(("access key id", creds.access_key_id))
        # Whether a secret is there, never a part of it or its length.
        lines.append(("access key secret", _set_or_not(creds.access_key_secret)))
        lines.append(("security token", _set_or_not(creds.security_token)))
    elif profile.mode is None:
        lines.append(("credentials", "none (add them with 'asrtui profile add --replace')"))
    return lines


def run_show(args: argparse.Namespace) -> int:
    """``asrtui profile show NAME``."""
    profiles = _profiles.ProfileStore().load()
    profile = profiles.get(args.name)
    lines = _describe(profile, profiles)
    width = max(len(key) for key, _ in lines)
    for key, value in lines:
        print(f"{key + ':':<{width + 1}} {value}")
    return 0


# -- remove / use ----------------------------------------------------------------------------


def run_remove(args: argparse.Namespace) -> int:
    """``asrtui profile remove NAME``."""
    was_default = _profiles.ProfileStore().remove(args.name)
    print(f"Removed profile '{args.name}'")
    if was_default:
        print("It was the default profile; choose another with: asrtui profile use NAME")
    return 0


def run_use(args: argparse.Namespace) -> int:
    """``asrtui profile use NAME``."""
    _profiles.ProfileStore().set_default(args.name)
    print(f"Default profile: '{args.name}'")
    return 0


# -- test ------------------------------------------------------------------------------------


async def _count_running(connection: Connection) -> int:
    # Imported here: the network stack is only needed by this subcommand.
    from asrtui.connect import open_client

    async with open_client(connection) as client:
        tasks = await client.list_tasks(priority=True)
    return len(tasks.tasks)


def run_test(args: argparse.Namespace, env: Mapping[str, str] | None = None) -> int:
    """``asrtui profile test NAME``: one real query; exit 1 on an API or network failure.

    The client is the composition root's (`asrtui.connect.open_client`), so the query spends
    the account's shared budget and reads answers within the profile's limits, as the
    console's would; the session-wide options and variables are not read.
    """
    try:
        from asrtui.connect import Connection
        from asrtui.credentials.chain import resolve_connection_settings

        resolved = resolve_connection_settings(
            profile=args.name,
            endpoint=option(args, "endpoint"),
            region=option(args, "region"),
            signature=option(args, "signature"),
            env=os.environ if env is None else env,
        )
        connection = Connection.from_settings(resolved)
        running = asyncio.run(_count_running(connection))
    except AsrtuiError as error:
        line = printable_line(f"profile '{args.name}' failed: {error}")
        print(f"asrtui: {line}", file=sys.stderr)
        return error.exit_code
    plural = "" if running == 1 else "s"
    settings = connection.settings
    print(
        f"Profile '{connection.profile_name}' works: {running} running task{plural} "
        f"(region {settings.region}, {connection.endpoint}, signature {settings.signature})"
    )
    return 0


# -- import-aliyun ---------------------------------------------------------------------------


def run_import_aliyun(args: argparse.Namespace) -> int:
    """``asrtui profile import-aliyun``: copy usable aliyun CLI profiles into the store."""
    found = _profiles.read_aliyun_config(args.file, only=args.only)
    store = _profiles.ProfileStore()
    with store.changing():
        current = store.load()
        profiles = dict(current.profiles)
        imported: list[Profile] = []
        skipped = list(found.skipped)
        for profile in found.profiles:
            if profile.name in profiles and not args.replace:
                skipped.append((profile.name, "a profile of that name exists (use --replace)"))
                continue
            profiles[profile.name] = profile
            imported.append(profile)
        default = current.default
        if default is None and imported:
            names = [p.name for p in imported]
            default = found.current if found.current in names else names[0]
        if imported:
            store.save(_profiles.ProfileSet(profiles, default))
    for profile in imported:
        note = " (default)" if profile.name == default else ""
        print(f"imported {profile.name}{note}: {_profiles.credential_summary(profile)}")
    for name, reason in skipped:
        # The name and the reason may quote the aliyun CLI's file as it is: shown escaped.
        print(f"skipped  {printable_line(f'{name}: {reason}')}")
    if not imported:
        print("Nothing imported.")
    return 0
