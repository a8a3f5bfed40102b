"""The seam between the console and the network: what the UI may ask for, as Protocols.

The UI never imports httpx, the client, signing, the limiter or the emulator; the composition
root (`asrtui.__main__`) hands it an object that satisfies `TaskSource`, and a `Connector` that
opens a `TaskSource` for another profile when the operator switches profiles.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Literal, Protocol, runtime_checkable

from asrtui.models import Task, TaskList
from asrtui.quotastats import QuotaStats
from asrtui.readonly import WRITABLE, ReadOnly
from asrtui.sessionsettings import Settings

if TYPE_CHECKING:
    from asrtui.profiles import ProfileStore
    from asrtui.taskspec import TaskSpec

# The status line's record lives below the client, which fills it in; the UI finds it here.
__all__ = ["ChoiceKind", "Connector", "ProfileChoice", "ProfileSession", "QuotaStats", "TaskSource"]


@dataclass(frozen=True)
class CredentialsStatus:
    """The credentials in use, for the status line (never a secret).

    A source may offer it through an optional ``credentials_status()`` method (the console
    asks with ``getattr``, so sources without one need not change).

    Attributes:
        mode: ``AK``, ``StsToken``, ``RamRoleArn``, ``EcsRamRole``...
        expiration: when the current temporary credentials expire, if known.
        refresh_error: why the last background refresh failed, ``""`` when it did not.
        key_id: the current AccessKey id, already masked (``LTAI****abcd``), ``""`` if none.
        renewals: how many times the credentials were renewed (`asrtui.credentials.provider.
            CredentialsInfo.renewals`): the console's record journals each step of it.
    """

    mode: str
    expiration: datetime | None = None
    refresh_error: str = ""
    key_id: str = ""
    renewals: int = 0


@runtime_checkable
class TaskSource(Protocol):
    """Where the console gets tasks from and sends actions to.

    Every method raises only `asrtui.errors.AsrtuiError` subclasses.
    """

    @property
    def profile_name(self) -> str:
        """The profile shown in the status line (``demo`` in demo mode)."""
        ...

    @property
    def region(self) -> str:
        """The region id shown in the status line."""
        ...

    async def list_tasks(self, *, priority: bool = False) -> TaskList:
        """All running tasks; ``priority`` for a user-initiated (manual) refresh."""
        ...

    async def get_task(self, task_id: str) -> Task | None:
        """One task by id (a user-initiated, priority request); ``None`` when it is gone."""
        ...

    async def stop_task(self, task_id: str) -> None:
        """Stop a running task."""
        ...

    async def delete_task(self, task_id: str) -> None:
        """Delete a task."""
        ...

    def quota(self) -> QuotaStats:
        """Limiter and error counters for the status line."""
        ...


#: What a `ProfileChoice` stands for: a stored profile, credentials from the environment, or
#: the built-in demo.
ChoiceKind = Literal["profile", "environment", "demo"]


@dataclass(frozen=True)
class ProfileChoice:
    """One entry of the profile switcher, with nothing secret in it.

    Attributes:
        key: what to pass to `Connector.open` (the profile name for stored profiles; a key
            that cannot be a profile name for the environment and the demo).
        name: the name shown (and shown in the status line once active).
        region: the region id.
        endpoint: the endpoint requests go to (``scheme://host[:port]``, never credentials).
        credentials: how it authenticates, masked (``access key ****abcd``, ``command prog``).
        kind: a stored profile, the environment, or the demo.
        default: whether it is the default profile.
        active: whether the console uses it now.
        read_only: whether stop and delete are disabled for it.
    """

    key: str
    name: str
    region: str
    endpoint: str
    credentials: str
    kind: ChoiceKind = "profile"
    default: bool = False
    active: bool = False
    read_only: bool = False

    @property
    def editable(self) -> bool:
        """Whether the profile lives in the profile store (the environment and demo do not)."""
        return self.kind == "profile"


@dataclass(frozen=True)
class ProfileSession:
    """An opened profile: the source to show, and the console settings that come with it.

    Attributes:
        key: the `ProfileChoice.key` it was opened from.
        source: where the new main screen gets tasks from.
        settings: the session's settings: its refresh interval, its alert hook (``on_event``
            and its kinds) among them.
        read_only: whether stop and delete are refused, and because of what (the option, the
            environment, the profile), named when an action is refused.
        demo: whether it talks to the built-in emulator (which writes no files).
    """

    key: str
    source: TaskSource
    settings: Settings = field(default_factory=Settings)
    read_only: ReadOnly = WRITABLE
    demo: bool = False


@runtime_checkable
class Connector(Protocol):
    """Lists the profiles the console may switch to and opens them.

    Switching is two steps so that the console never loses its current profile to a failure,
    and never closes a client a running request still uses: `open` builds and opens the new
    client (raising, with nothing changed, when the profile cannot be used), the console puts
    a new main screen on it (which stops the old screen's workers), then `activate` closes the
    clients of every other session. `aclose` closes whatever is still open.
    """

    @property
    def active_key(self) -> str | None:
        """The key of the active session, ``None`` before the first one."""
        ...

    def profiles(self) -> Sequence[ProfileChoice]:
        """Every profile that can be opened, the active one flagged.

        Raises:
            AsrtuiError: the profile files cannot be read (the message names the file).
        """
        ...

    def store(self) -> ProfileStore | None:
        """The store profiles are added to and edited in; ``None`` when that is not allowed."""
        ...

    async def open(self, key: str) -> ProfileSession:
        """Open a client for ``key``, checking that its credentials can be had.

        Raises:
            AsrtuiError: the profile is missing or invalid, its credentials file is unsafe, or
                its credential command fails.
        """
        ...

    async def activate(self, session: ProfileSession) -> None:
        """Make ``session`` the active one and close the clients of every other session."""
        ...

    async def aclose(self) -> None:
        """Close every client still open."""
        ...


@runtime_checkable
class TaskCreator(Protocol):
    """A `TaskSource` that can also create tasks (``CreateRtcAsrTask``, in maintenance mode
    upstream). Kept apart from `TaskSource` so that a source without it (a test double, a
    read-only view) still is one; the console offers create and restart only when it is one.
    """

    async def create_task(self, spec: TaskSpec) -> str:
        """Create a task from checked values (`asrtui.taskspec.validate`); its new id.

        Raises:
            AsrtuiError: the service refused it (a value, the permission, the quota...).
        """
        ...
