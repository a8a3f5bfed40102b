"""What a task id given to asrtui may look like, checked before it is sent anywhere.

The service's ids look like ``asr-a7bdde0a-0939-4288-973e-170082aa1234`` (40 characters), but
the format is not documented as a contract, so the rule is tolerant of anything a real id
could be and refuses only what cannot be one:

- empty (or only spaces);
- longer than `MAX_TASK_ID` characters: real ids are 40; 256 leaves room for any other format
  the service may adopt while keeping the request line far below the 8 KiB that gateways and
  proxies accept (a 100,000-character id would otherwise fail as a URL that is too long);
- whitespace or control characters anywhere (a pasted line break, a tab, an escape sequence):
  no id holds them, and they would be sent or shown as something other than what was typed.

Spaces around a pasted id are dropped (`normalize_task_id`).
"""

from __future__ import annotations

from asrtui.errors import InvalidTaskIdError
from asrtui.printable import printable_line

__all__ = ["MAX_TASK_ID", "normalize_task_id"]

#: The most characters a task id may have (see the module docstring).
MAX_TASK_ID = 256

_HINT = "copy the id from 'asrtui tasks' (ids look like asr-a7bdde0a-0939-4288-973e-170082aa1234)"


def normalize_task_id(task_id: str) -> str:
    """``task_id`` without surrounding spaces, if it can be a task id; else raise.

    Raises:
        InvalidTaskIdError: empty, over `MAX_TASK_ID` characters, or holding whitespace or a
            control character. The message quotes at most the id's first 40 characters,
            escaped.
    """
    text = task_id.strip()
    if not text:
        raise InvalidTaskIdError("Empty task id", _HINT)
    shown = printable_line(text[:40]) + ("..." if len(text) > 40 else "")
    if len(text) > MAX_TASK_ID:
        raise InvalidTaskIdError(
            f"Invalid task id '{shown}': it is {len(text)} characters long, "
            f"more than the {MAX_TASK_ID} a task id can have",
            _HINT,
        )
    if any(char.isspace() for char in text):
        raise InvalidTaskIdError(f"Invalid task id '{shown}': it contains whitespace", _HINT)
    if not text.isprintable():
        raise InvalidTaskIdError(
            f"Invalid task id '{shown}': it contains a control or invisible character", _HINT
        )
    return text
