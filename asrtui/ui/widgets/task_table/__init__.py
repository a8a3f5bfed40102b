"""The task table widget and the pieces it is made of.

`widget` is the Textual widget (`TaskTable`); `view` keeps its rows sorted, filtered and under
a cursor; `rows` derives what one row shows; `columns` lays the columns out for a width.
"""

from __future__ import annotations

from asrtui.ui.widgets.task_table.columns import (
    COLUMN_BY_KEY,
    DEFAULT_CHOICE,
    SORT_COLUMNS,
    ColumnChoice,
    SortColumn,
    layout_columns,
)
from asrtui.ui.widgets.task_table.rows import ENDED_LABEL
from asrtui.ui.widgets.task_table.widget import TaskTable

__all__ = [
    "COLUMN_BY_KEY",
    "DEFAULT_CHOICE",
    "ENDED_LABEL",
    "SORT_COLUMNS",
    "ColumnChoice",
    "SortColumn",
    "TaskTable",
    "layout_columns",
]
