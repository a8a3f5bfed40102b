"""``asrtui journal``: print a profile's journal (`asrtui.journal`), or follow it.

Which journal: the profile named by ``--profile``, else the profile the console would use (the
same resolution, credentials included). When no credentials resolve (the journal is read on a
machine without them, or after the fact), a single journal in the directory is taken; with
several, the command names them and asks for ``--profile``.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from asrtui.cli.connection import environment, option, resolve_connection
from asrtui.connect import Connection
from asrtui.errors import ConfigError, CredentialsError
from asrtui.events import Event, event_line
from asrtui.journal import Follower, Journal, Problem, journal_dir, journal_path, read_journal
from asrtui.printable import printable_line
from asrtui.taskid import normalize_task_id

__all__ = ["journal_of", "parse_since", "record", "register", "run_journal", "run_report"]

#: Seconds between two looks at a followed journal.
FOLLOW_POLL = 0.5

_DURATION_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd])\s*$", re.IGNORECASE)
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_since(text: str, now: datetime | None = None) -> datetime:
    """``--since``: a duration back from now (``90s``, ``30m``, ``2h``, ``1d``) or a time.

    A time is ISO-8601 (``2026-12-06T20:00``, ``2026-12-06 20:00:00+08:00``); without an
    offset it is this machine's local time.

    Raises:
        argparse.ArgumentTypeError: neither.
    """
    now = now or datetime.now(UTC)
    match = _DURATION_RE.match(text)
    if match:
        seconds = float(match.group(1)) * _UNIT_SECONDS[match.group(2).lower()]
        if seconds > 3650 * 86400:
            raise argparse.ArgumentTypeError(f"too far back: {text}")
        return now - timedelta(seconds=seconds)
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"not a duration or a time: {printable_line(text)!r} "
            "(e.g. 90s, 30m, 2h, 1d, or 2026-12-06T20:00)"
        ) from None
    if moment.tzinfo is None:
        moment = moment.astimezone()
    return moment


def add_journal_options(parser: argparse.ArgumentParser) -> None:
    """``--since`` and ``--task``, shared by ``journal`` and ``report``."""
    parser.add_argument(
        "--since",
        metavar="WHEN",
        type=parse_since,
        help="only events since WHEN: a duration back (90s, 30m, 2h, 1d) or a time "
        "(2026-12-06T20:00, local unless an offset is given)",
    )
    parser.add_argument("--task", metavar="ID", help="only the events of this task")


def register(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
    *,
    parents: Sequence[argparse.ArgumentParser] = (),
) -> None:
    """Add ``journal`` to the root parser."""
    journal = subparsers.add_parser(
        "journal",
        parents=list(parents),
        help="print the profile's journal of events (what happened when)",
        description="Print the journal the console keeps for a profile: tasks appeared, "
        "ended and changed, API errors and throttling, and every operator action, one per "
        "line. Lines that cannot be read (a half-written last line after a crash) are "
        "reported on stderr and skipped.",
    )
    add_journal_options(journal)
    journal.add_argument(
        "--follow", "-f", action="store_true", help="keep printing events as they are appended"
    )
    journal.add_argument(
        "--format", choices=("text", "json"), default="text", help="a line per event (json: NDJSON)"
    )
    journal.set_defaults(func=run_journal)

    report = subparsers.add_parser(
        "report",
        parents=list(parents),
        help="summarise the journal: tasks, outages, throttling, operator actions, timeline",
        description="The report after the show, from the profile's journal: per task its tag, "
        "stream, language, first and last seen, running time, gaps and how it ended; API "
        "outages and throttling with their durations; every operator action; a timeline. "
        "Markdown by default (readable in a terminal, pasteable into a ticket).",
    )
    add_journal_options(report)
    report.add_argument(
        "--format", choices=("md", "json"), default="md", help="Markdown (default) or JSON"
    )
    report.set_defaults(func=run_report)


def journal_of(args: argparse.Namespace) -> str:
    """The profile whose journal to read (see the module docstring).

    Raises:
        ConfigError: the demo (it keeps no journal), or no profile to pick.
    """
    if getattr(args, "demo", False):
        raise ConfigError("The demo keeps no journal", "name a real profile with --profile")
    named = option(args, "profile")
    if named:
        return named
    try:
        return resolve_connection(args, environment()).profile_name
    except CredentialsError:
        pass
    files = sorted(journal_dir().glob("*.jsonl")) if journal_dir().is_dir() else []
    if len(files) == 1:
        return files[0].name.removesuffix(".jsonl")
    if not files:
        raise ConfigError(
            f"No journal in {journal_dir()}",
            "the console writes one per profile while it runs; name one with --profile",
        )
    names = ", ".join(f.name.removesuffix(".jsonl") for f in files)
    raise ConfigError(f"Several journals ({names})", "name one with --profile")


def record(connection: Connection, event: Event) -> None:
    """Append an operator action of the command line to the profile's journal (not the demo's).

    A journal that cannot be written is said on stderr; the action itself is done.
    """
    if connection.demo:
        return
    journal = Journal(journal_path(connection.profile_name))
    try:
        if not journal.append(event) and journal.failure:
            print(f"asrtui: {journal.failure}", file=sys.stderr)
    finally:
        journal.close()


def _report_problem(problem: Problem) -> None:
    print(f"asrtui: journal {printable_line(str(problem))}", file=sys.stderr, flush=True)


def _print(event: Event, fmt: str) -> None:
    print(event.to_line() if fmt == "json" else event_line(event), flush=True)


def run_journal(args: argparse.Namespace) -> int:
    """``asrtui journal``: the events, oldest first; ``--follow`` until Ctrl-C (exit 130)."""
    task = normalize_task_id(args.task) if args.task else None
    path = journal_path(journal_of(args))
    # Following, the current file is the follower's to read from its start: no line written
    # between a first reading and the start of the follow can fall between the two.
    found = read_journal(path, since=args.since, task=task, current=not args.follow)
    for problem in found.problems:
        _report_problem(problem)
    for event in found.events:
        _print(event, args.format)
    if not args.follow:
        if not found.events and not path.exists():
            print(f"asrtui: no journal yet at {path}", file=sys.stderr)
        return 0
    follower = Follower(path, task=task, since=args.since, from_end=False)
    try:
        for event in follower.events(lambda: time.sleep(FOLLOW_POLL), _report_problem):
            _print(event, args.format)
    except KeyboardInterrupt:
        return 130
    finally:
        follower.close()
    return 0  # pragma: no cover - the loop above ends only by Ctrl-C


def run_report(args: argparse.Namespace) -> int:
    """``asrtui report``: the summary of the profile's journal (damaged lines said on stderr)."""
    # Loaded here: every other command (``tasks`` first) would pay for it at each start.
    from asrtui.report import build_report, render_json, render_markdown

    task = normalize_task_id(args.task) if args.task else None
    profile = journal_of(args)
    found = read_journal(journal_path(profile), since=args.since, task=task)
    for problem in found.problems:
        _report_problem(problem)
    summary = build_report(found.events, profile=profile)
    sys.stdout.write(render_json(summary) if args.format == "json" else render_markdown(summary))
    return 0
