"""What the copy keys put on the clipboard, masked unless the operator revealed secrets.

Copying goes through `textual.app.App.copy_to_clipboard`, which writes an OSC 52 escape
sequence: the terminal (not this process) owns the clipboard, so it works over SSH. Inside tmux
the sequence reaches the outer terminal only with ``set -g set-clipboard on`` in
``~/.tmux.conf`` (tmux 3.3 defaults to ``external``, which drops it); tmux then also keeps the
text as its newest paste buffer (``tmux show-buffer``). Terminals that ignore OSC 52 (macOS
Terminal) copy nothing, so each copy also tells the operator what was sent.

With tasks marked, a copy holds every marked task: ids and URLs one per line, JSON as an array
(the export's text). The tasks given are as the screen shows them (`asrtui.ui.export.as_shown`):
an ended task is copied as ended.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from asrtui.jsontext import to_text
from asrtui.models import Task
from asrtui.printable import printable_json
from asrtui.redact import redact_task, redact_task_dict
from asrtui.wire import task_to_wire

# A lone surrogate: a JSON string may hold one (``"\ud800"``), UTF-8 text cannot.
_SURROGATE_RE = re.compile("[\ud800-\udfff]")


def clipboard_text(text: str) -> str:
    """``text`` as the clipboard can take it: each lone surrogate written as an escape.

    The terminal's clipboard is reached with base64 of UTF-8 text, which a lone surrogate
    cannot be encoded in; it is the only character changed.
    """
    if text.isprintable() or not _SURROGATE_RE.search(text):
        return text
    return _SURROGATE_RE.sub(lambda match: f"\\u{ord(match.group()):04x}", text)


def task_json(task: Task, *, revealed: bool) -> str:
    """The task object as received, pretty-printed; secrets masked unless ``revealed``.

    The same JSON text as an export: invisible characters and lone surrogates escaped.
    """
    raw = task_to_wire(task)
    shown = raw if revealed else redact_task_dict(raw)
    return printable_json(to_text(shown, indent=2))


def stream_url(task: Task, *, revealed: bool) -> str:
    """The stream URL, with its ``auth_key`` (and any password) masked unless ``revealed``."""
    return clipboard_text(task.stream_url if revealed else redact_task(task).stream_url)


def task_id(task: Task, *, revealed: bool) -> str:
    """The task id, under the same rule as every other field (an id is never a secret)."""
    return clipboard_text(task.task_id if revealed else redact_task(task).task_id)


def tasks_json(tasks: Sequence[Task], *, revealed: bool) -> str:
    """The tasks (marked ones) as a JSON array, the export's text; masked unless ``revealed``."""
    # The export's encoder, loaded with the first copy of marked tasks (start-up time).
    from asrtui.output import render_json

    return render_json(tasks, reveal=revealed)


def stream_urls(tasks: Sequence[Task], *, revealed: bool) -> str:
    """The stream URLs, one per line, each as `stream_url` gives it."""
    return "\n".join(stream_url(task, revealed=revealed) for task in tasks)


def task_ids(tasks: Sequence[Task], *, revealed: bool) -> str:
    """The task ids, one per line, each as `task_id` gives it."""
    return "\n".join(task_id(task, revealed=revealed) for task in tasks)
