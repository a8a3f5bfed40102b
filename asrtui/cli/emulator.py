"""The ``emulator`` subcommand: serve the Live API emulator on a local socket for testing."""

from __future__ import annotations

import argparse
import importlib.util
import sys
from collections.abc import Callable

from asrtui.errors import ConfigError
from asrtui.printable import printable_line

__all__ = ["register", "run_emulator"]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``emulator`` to the root parser."""
    parser = subparsers.add_parser(
        "emulator",
        help="serve the Live API emulator on a local port",
        description=(
            "Serve an emulator of the Live real-time ASR API (signatures, quota, faults) "
            "for trying asrtui, the official SDKs or your own scripts without an account."
        ),
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument(
        "--port", type=_port, default=0, help="port to bind (default 0: any free port)"
    )
    parser.add_argument("--tasks", type=_count, default=8, help="tasks to start with")
    parser.add_argument("--seed", type=int, default=0, help="seed for ids and lifecycles")
    parser.add_argument("--lively", action="store_true", help="tasks start and end over time")
    parser.add_argument("--access-key-id", metavar="ID", help="accept this AccessKey id")
    parser.add_argument("--access-key-secret", metavar="S", help="the secret of --access-key-id")
    parser.add_argument(
        "--fault",
        metavar="SPEC",
        default="",
        help="inject faults, e.g. 'throttle=0.2,503=0.1,latency=0.5,retry_after=500'",
    )
    parser.add_argument(
        "--jitter",
        metavar="MS",
        type=_jitter,
        default=0.0,
        help="delay each request by a random 0..MS ms before it is counted (network jitter)",
    )
    parser.add_argument(
        "--sts",
        action="store_true",
        help="also serve STS AssumeRole and AssumeRoleWithOIDC (signed by the accepted key)",
    )
    parser.add_argument(
        "--metadata",
        nargs="?",
        const="asrtui-ecs-role",
        metavar="ROLE",
        help="also serve the ECS metadata service (IMDSv2 tokens) with this instance RAM role "
        "(default role asrtui-ecs-role) and a credentials URI at /credentials",
    )
    parser.add_argument(
        "--imdsv2-only",
        action="store_true",
        help="the metadata service refuses requests without an IMDSv2 token",
    )
    parser.add_argument(
        "--sts-expiry",
        metavar="SECONDS",
        type=_lifetime,
        default=None,
        help="every temporary credential issued lives this long (default: as asked, 1 hour)",
    )
    parser.set_defaults(func=run_emulator)


def _bounded(
    parse: Callable[[str], float], what: str, low: float, high: float, unit: str = ""
) -> Callable[[str], float]:
    """An argparse type: ``parse`` the text and keep it within ``[low, high]``."""

    def convert(text: str) -> float:
        try:
            value = parse(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not {what}: {text!r}") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be between {low:g} and {high:g}{unit}")
        return value

    return convert


_port = _bounded(int, "a port number", 0, 65535)
_count = _bounded(int, "a number", 0, 100_000)
_jitter_ms = _bounded(float, "a number of milliseconds", 0, 10_000, " milliseconds")
_lifetime = _bounded(float, "a number of seconds", 1, 43_200, " seconds")


def _jitter(text: str) -> float:
    """``--jitter MS`` in seconds."""
    return _jitter_ms(text) / 1000


def run_emulator(args: argparse.Namespace) -> int:
    """Serve until Ctrl-C; print the URL and the accepted credentials once listening."""
    if importlib.util.find_spec("uvicorn") is None:
        raise ConfigError("The emulator server needs uvicorn", "pip install 'asrtui[emulator]'")
    key_id: str | None = args.access_key_id
    secret: str | None = args.access_key_secret
    if (key_id is None) != (secret is None):
        raise ConfigError(
            "--access-key-id and --access-key-secret go together", "pass both or neither"
        )
    from asrtui.emulator import (
        DEMO_ACCESS_KEY_ID,
        DEMO_ACCESS_KEY_SECRET,
        IdentityServices,
        build_emulator,
    )
    from asrtui.emulator.server import serve

    role: str | None = args.metadata
    identity = (
        IdentityServices(
            lifetime=args.sts_expiry,
            instance_role=role or "",
            imdsv1=not args.imdsv2_only,
        )
        if args.sts or role is not None or args.sts_expiry is not None
        else None
    )
    credentials = {key_id: secret} if key_id is not None and secret is not None else None
    try:
        app = build_emulator(
            seed=args.seed,
            tasks=args.tasks,
            lively=args.lively,
            fault_spec=args.fault,
            credentials=credentials,
            jitter=args.jitter,
            identity=identity,
        )
    except ValueError as exc:
        raise ConfigError(f"Invalid --fault spec: {exc}", "see 'asrtui emulator --help'") from None
    shown_id = key_id or DEMO_ACCESS_KEY_ID
    shown_secret = secret or DEMO_ACCESS_KEY_SECRET

    def on_ready(url: str) -> None:
        # A local test server with test credentials: printing them is the point.
        print(f"Live API emulator listening on {url}", flush=True)
        print(f"  AccessKey id:     {shown_id}", flush=True)
        print(f"  AccessKey secret: {shown_secret}", flush=True)
        print(
            f"  try: ALIBABA_CLOUD_ACCESS_KEY_ID={shown_id} "
            f"ALIBABA_CLOUD_ACCESS_KEY_SECRET={shown_secret} asrtui --endpoint {url}",
            flush=True,
        )
        if args.sts:
            print(f"  STS:              {url} (AssumeRole, AssumeRoleWithOIDC)", flush=True)
        if role is not None:
            print(f"  ECS metadata:     ASRTUI_ECS_METADATA_URL={url} (role {role})", flush=True)
            print(f"  credentials URI:  {url}/credentials", flush=True)
        print("Press Ctrl-C to stop.", flush=True)

    where = printable_line(f"{args.host}:{args.port}")  # the host as typed, escaped
    try:
        serve(app, args.host, args.port, on_ready=on_ready)
    except OSError as exc:
        # An OSError raised with a message only has no strerror: never print "None".
        reason = printable_line(exc.strerror or str(exc) or type(exc).__name__)
        print(f"asrtui: cannot listen on {where}: {reason}", file=sys.stderr)
        return 1
    except SystemExit as exc:
        # uvicorn exits the process when it cannot bind; keep our one-line contract.
        if exc.code in (0, None):
            return 0
        print(f"asrtui: cannot listen on {where}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        pass
    return 0
