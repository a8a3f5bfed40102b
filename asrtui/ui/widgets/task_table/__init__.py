"""The task table widget and the pieces it is made of.

`widget` is the Textual widget (`TaskTable`); `view` keeps its rows sorted, filtered and under
a cursor; `rows` derives what one row shows; `columns` lays the columns out for a width.
"""

from __future__ import annotations

from asrtui.ui.widgets.task_table.columns import SORT_COLUMNS, SortColumn, layout_columns
from asrtui.ui.widgets.task_table.rows import ENDED_LABEL
from asrtui.ui.widgets.task_table.widget import TaskTable

__all__ = ["ENDED_LABEL", "SORT_COLUMNS", "SortColumn", "TaskTable", "layout_columns"]
