"""What the copy keys put on the clipboard, masked unless the operator revealed secrets.

Copying goes through `textual.app.App.copy_to_clipboard`, which writes an OSC 52 escape
sequence: the terminal (not this process) owns the clipboard, so it works over SSH. Inside tmux
the sequence reaches the outer terminal only with ``set -g set-clipboard on`` in
``~/.tmux.conf`` (tmux 3.3 defaults to ``external``, which drops it); tmux then also keeps the
text as its newest paste buffer (``tmux show-buffer``). Terminals that ignore OSC 52 (macOS
Terminal) copy nothing, so each copy also tells the operator what was sent.
"""

from __future__ import annotations

from asrtui.jsontext import to_text
from asrtui.models import Task
from asrtui.redact import mask_stream_url, redact_task_dict
from asrtui.wire import task_to_wire


def task_json(task: Task, *, revealed: bool) -> str:
    """The task object as received, pretty-printed; secrets masked unless ``revealed``."""
    raw = task_to_wire(task)
    shown = raw if revealed else redact_task_dict(raw)
    return to_text(shown, indent=2)


def stream_url(task: Task, *, revealed: bool) -> str:
    """The stream URL, with its ``auth_key`` masked unless ``revealed``."""
    return task.stream_url if revealed else mask_stream_url(task.stream_url)
