"""The profile store on disk: where it lives, how it is read, and how it is written safely.

Layout, in `config_dir` (``$XDG_CONFIG_HOME/asrtui``, mode 0700)::

    config.toml        default = "prod"           settings, no secrets
                       [profiles.prod]
                       region = "cn-shanghai"
                       signature = "v3"
                       rate_limit = 20
                       refresh = 5.0
                       read_only = false
                       request_timeout = 15.0     (optional)
                       max_answer_mb = 256        (optional)
                       endpoint = "https://..."   (optional)
                       credential_command = "..." (optional)
                       on_event = "page-oncall"   (optional alert hook)
                       on_event_kinds = ["task_ended"]  (optional)
                       shared_quota = "redis://host:6379/0"  (optional, never a password)
    credentials.toml   [prod]                     secrets only
                       access_key_id = "LTAI..."
                       access_key_secret = "..."
                       security_token = "..."     (optional, STS)
                       shared_quota_password = "..."  (optional: the Redis URL's password)

Two files, as the AWS and aliyun tool chains do: the settings can be read, diffed, pasted into a
bug report or kept in a dotfiles repository without carrying a secret, while the secrets sit in
one small file whose permissions are checked on every read. Both are written 0600.

Safety rules:

- writes are atomic (temporary file in the same directory, fsync, ``os.replace``): a crash,
  a full disk or an I/O error leaves either the old file or the new one, never half of one,
  and the two files are written in an order where no profile loses its secrets halfway
  (`ProfileStore.save`);
- a file that does not parse raises `ConfigError` naming the file and the line, and is never
  overwritten: every write first reads the current files, so it fails the same way;
- ``credentials.toml`` readable or writable by group or others is refused (as ssh refuses a
  private key) with the ``chmod 600`` that fixes it; ``config.toml`` writable by group or
  others is refused too, because its ``credential_command`` is run; so is a file or a
  config directory that belongs to another user, a directory above it that others can
  change, and anything but a regular file (a FIFO would hang the read): `asrtui.files`;
- a file that is a symbolic link is read and written through to its target, which keeps
  the link;
- unknown keys are rejected by name, so a typo (``rate-limit``) is not silently ignored and
  then dropped by the next write.

Over 450 lines, and one thing: the two files' format and its safe round trip. Reading (each
key checked, the file named) and writing (secrets apart, atomically) are the two halves of one
format and change together; the rules a file must follow are `asrtui.files`'.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import stat
import time
import tomllib
from collections.abc import Iterator, Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import platformdirs

from asrtui.answersize import DEFAULT_MAX_ANSWER_MB
from asrtui.credentials import Credentials
from asrtui.errors import ConfigError, CredentialsError
from asrtui.files import check_directory, file_error, read_private, write_private
from asrtui.profiles.model import Profile, check_credentials, validate_name
from asrtui.profiles.modes import SETTING_NAMES, ModeSettings
from asrtui.quotaurl import split_password, with_password
from asrtui.sessionsettings import DEFAULT_REQUEST_TIMEOUT

__all__ = [
    "CONFIG_FILE",
    "CREDENTIALS_FILE",
    "ProfileSet",
    "ProfileStore",
    "config_dir",
]

CONFIG_FILE = "config.toml"
CREDENTIALS_FILE = "credentials.toml"
#: Held while a change reads, modifies and writes the two files (see `ProfileStore.add`).
LOCK_FILE = ".lock"
#: How long a change waits for another process's change before giving up, in seconds.
LOCK_TIMEOUT = 5.0

_SETTING_KEYS = frozenset(
    {
        "region",
        "endpoint",
        "signature",
        "rate_limit",
        "refresh",
        "read_only",
        "credential_command",
        "request_timeout",
        "max_answer_mb",
        "mode",
        *SETTING_NAMES,
        "on_event",
        "on_event_kinds",
        "shared_quota",
    }
)
_SECRET_KEYS = frozenset({"access_key_id", "access_key_secret", "security_token"})
#: The password of the profile's ``shared_quota`` URL: a secret, so it is kept with the keys
#: and the URL in ``config.toml`` has none (a URL written with one by an earlier version is
#: still read, and moved on the next write).
_QUOTA_PASSWORD = "shared_quota_password"


def config_dir() -> Path:
    """The directory holding ``config.toml`` and ``credentials.toml``.

    The one place that knows the path: ``platformdirs.user_config_path("asrtui")``, which honours
    ``XDG_CONFIG_HOME``. Tests point it elsewhere through that variable or a monkeypatch.
    """
    return platformdirs.user_config_path("asrtui")


@dataclass(frozen=True)
class ProfileSet:
    """Every stored profile and the name of the default one.

    Attributes:
        profiles: profiles by name, in file order.
        default: the default profile's name, or ``None``.
    """

    profiles: Mapping[str, Profile] = field(default_factory=dict)
    default: str | None = None

    def get(self, name: str) -> Profile:
        """The profile called ``name``; `ConfigError` with the known names when there is none."""
        try:
            return self.profiles[name]
        except KeyError:
            known = ", ".join(self.profiles) or "none"
            raise ConfigError(
                f"No profile named {name!r} (profiles: {known})",
                "run 'asrtui profile list' to see them, or 'asrtui profile add' to add one",
            ) from None


class ProfileStore:
    """Reads and writes the profiles of one config directory.

    Args:
        directory: the config directory; `config_dir` (looked up on each call) by default.
        uid: the user the files must belong to; the effective user by default (tests pass
            another to see the store as someone else would).
    """

    def __init__(self, directory: Path | None = None, *, uid: int | None = None) -> None:
        self._directory = directory
        self._uid = uid

    def __repr__(self) -> str:
        return f"ProfileStore({str(self.directory)!r})"

    @property
    def directory(self) -> Path:
        """The config directory this store uses."""
        return self._directory if self._directory is not None else config_dir()

    @property
    def config_path(self) -> Path:
        """Path of ``config.toml``."""
        return self.directory / CONFIG_FILE

    @property
    def credentials_path(self) -> Path:
        """Path of ``credentials.toml``."""
        return self.directory / CREDENTIALS_FILE

    # -- reading ---------------------------------------------------------------------------

    def load(self) -> ProfileSet:
        """Read both files (missing files mean no profiles).

        Raises:
            ConfigError: a file does not parse, has unknown keys or invalid values, or is
                refused by the rules of `asrtui.files` (owner, mode, kind, directories).
            CredentialsError: ``credentials.toml`` is accessible to group or others.
        """
        if not check_directory(self.directory, uid=self._uid):
            return ProfileSet()
        config = _read_toml(self.config_path, secret=False, uid=self._uid)
        secrets = _read_toml(self.credentials_path, secret=True, uid=self._uid)
        return _build(config, secrets, self.config_path, self.credentials_path)

    # -- writing ---------------------------------------------------------------------------

    def save(self, profiles: ProfileSet) -> None:
        """Write ``profiles`` to both files atomically, creating the directory (0700) if needed.

        Three steps, so that a failure (a crash, a full disk) after any of them leaves files
        that load and no profile without the key it had or was given: the secrets of the old
        and the new profiles together, then the settings, then the new secrets alone (when
        that differs). A failure before the last step leaves unused secrets behind, dropped
        by the next write.
        """
        if profiles.default is not None and profiles.default not in profiles.profiles:
            raise ConfigError(f"Default profile {profiles.default!r} does not exist")
        directory = self.directory
        _ensure_dir(directory, self._uid)
        config: dict[str, Any] = {}
        if profiles.default is not None:
            config["default"] = profiles.default
        config["profiles"] = {name: _settings_table(p) for name, p in profiles.profiles.items()}
        secrets = {
            name: table for name, p in profiles.profiles.items() if (table := _secrets_table(p))
        }
        old = _read_toml(self.credentials_path, secret=True, uid=self._uid)
        merged = {
            name: table
            for name, table in old.items()
            if name not in profiles.profiles or name in secrets
        }
        merged.update(secrets)
        self._write(self.credentials_path, merged, secret=True)
        self._write(self.config_path, config, secret=False)
        if secrets != merged:
            self._write(self.credentials_path, secrets, secret=True)

    def _write(self, path: Path, table: Mapping[str, Any], *, secret: bool) -> None:
        import tomli_w  # here, not at start-up: a session that saves nothing never needs it

        write_private(path, tomli_w.dumps(dict(table)).encode(), secret=secret, uid=self._uid)

    @contextlib.contextmanager
    def changing(self) -> Iterator[None]:
        """Hold the store's lock for one read-modify-write of the files.

        Each file is replaced atomically, but two changes at once (``asrtui profile add`` in two
        terminals, the console's profile form and the CLI) would each read the old profiles
        and the second write would drop the first one's profile. The lock is an ``flock`` on
        ``.lock`` in the config directory: the kernel releases it when its holder dies.

        Raises:
            ConfigError: another process kept the lock for `LOCK_TIMEOUT` seconds.
        """
        directory = self.directory
        _ensure_dir(directory, self._uid)
        path = directory / LOCK_FILE
        flags = os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW | os.O_NONBLOCK
        try:
            fd = os.open(path, flags, 0o600)
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                raise ConfigError(
                    f"{path} is a symbolic link; refusing to use it", f"remove it: rm {path}"
                ) from None
            raise file_error("Cannot open", path, exc) from None
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                raise ConfigError(f"{path} is not a regular file", f"remove it: rm -r {path}")
            deadline = time.monotonic() + LOCK_TIMEOUT
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        raise ConfigError(
                            f"Another asrtui is changing the profiles in {directory}",
                            "try again when it has finished",
                        ) from None
                    time.sleep(0.01)
            yield
        finally:
            os.close(fd)  # releases the lock

    def add(self, profile: Profile, *, make_default: bool = False, replace: bool = False) -> bool:
        """Store ``profile``; returns whether it became the default.

        The first profile stored becomes the default even without ``make_default``.

        Raises:
            ConfigError: a profile of that name exists and ``replace`` is false.
        """
        with self.changing():
            return self._add(profile, make_default=make_default, replace=replace)

    def _add(self, profile: Profile, *, make_default: bool, replace: bool) -> bool:
        current = self.load()
        if profile.name in current.profiles and not replace:
            raise ConfigError(
                f"Profile {profile.name!r} already exists",
                f"pass --replace to overwrite it, or 'asrtui profile remove {profile.name}'",
            )
        profiles = dict(current.profiles)
        profiles[profile.name] = profile
        default = current.default
        if make_default or default is None:
            default = profile.name
        self.save(ProfileSet(profiles, default))
        return default == profile.name

    def remove(self, name: str) -> bool:
        """Delete the profile called ``name``; returns whether it was the default."""
        with self.changing():
            return self._remove(name)

    def _remove(self, name: str) -> bool:
        current = self.load()
        current.get(name)
        profiles = {k: v for k, v in current.profiles.items() if k != name}
        was_default = current.default == name
        self.save(ProfileSet(profiles, None if was_default else current.default))
        return was_default

    def set_default(self, name: str) -> None:
        """Make ``name`` the default profile."""
        with self.changing():
            current = self.load()
            current.get(name)
            self.save(replace(current, default=name))


def _ensure_dir(directory: Path, uid: int | None) -> None:
    """Create ``directory`` with mode 0700 (parents with the usual mode) if it is missing.

    Then check it and the directories above it (`asrtui.files.check_directory`).
    """
    if not check_directory(directory, uid=uid):
        try:
            directory.parent.mkdir(parents=True, exist_ok=True)
            directory.mkdir(mode=0o700)
            os.chmod(directory, 0o700)  # mkdir's mode is filtered by the umask
        except FileExistsError:
            pass  # made by another process meanwhile, or a file: checked below
        except OSError as exc:
            raise file_error("Cannot create", directory, exc) from None
        check_directory(directory, uid=uid)


def _read_toml(path: Path, *, secret: bool, uid: int | None) -> dict[str, Any]:
    """Parse ``path`` (an empty table when missing), checking it first (`read_private`)."""
    data = read_private(path, secret=secret, uid=uid)
    if data is None:
        return {}
    try:
        return tomllib.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigError(
            f"Cannot read {path}: not UTF-8 text",
            "fix or remove the file; asrtui will not overwrite it",
        ) from None
    except tomllib.TOMLDecodeError as exc:
        # tomllib's message names the line and column, never the content.
        raise ConfigError(
            f"Cannot read {path}: {exc}", "fix or remove the file; asrtui will not overwrite it"
        ) from None


def _reject_unknown(
    table: Mapping[str, Any], known: AbstractSet[str], where: str, expected: str = ""
) -> None:
    """Refuse a key of ``table`` not in ``known`` by name: a typo is not silently dropped.

    ``expected`` says what may be there; the known keys, sorted, by default.
    """
    unknown = set(table) - known
    if unknown:
        raise ConfigError(
            f"{where}: unknown key {sorted(unknown)[0]!r}",
            "expected " + (expected or ", ".join(sorted(known))),
        )


def _build(
    config: Mapping[str, Any],
    secrets: Mapping[str, Any],
    config_path: Path,
    credentials_path: Path,
) -> ProfileSet:
    _reject_unknown(config, {"default", "profiles"}, str(config_path), "'default', [profiles]")
    tables = config.get("profiles", {})
    if not isinstance(tables, dict):
        raise ConfigError(f"{config_path}: 'profiles' must be a table")
    if not isinstance(secrets, dict):  # pragma: no cover - tomllib always returns a dict
        raise ConfigError(f"{credentials_path}: expected tables")
    profiles: dict[str, Profile] = {}
    for name, table in tables.items():
        where = f"{config_path} [profiles.{name}]"
        if not isinstance(table, dict):
            raise ConfigError(f"{where}: must be a table")
        try:
            validate_name(name)
        except ConfigError as exc:
            raise ConfigError(f"{where}: {exc.message}", exc.hint) from None
        profiles[name] = _profile(name, table, secrets.get(name), where, credentials_path)
    default = config.get("default")
    if default is not None:
        if not isinstance(default, str):
            raise ConfigError(f"{config_path}: 'default' must be a profile name")
        if default not in profiles:
            raise ConfigError(
                f"{config_path}: the default profile {default!r} is not defined",
                "run 'asrtui profile use NAME' with an existing profile",
            )
    return ProfileSet(profiles, default)


def _profile(
    name: str,
    table: Mapping[str, Any],
    secret_table: object,
    where: str,
    credentials_path: Path,
) -> Profile:
    _reject_unknown(table, _SETTING_KEYS, where)
    kwargs: dict[str, Any] = {}
    for key, kind, wanted in (
        ("region", str, "a quoted string"),
        ("endpoint", str, "a quoted string"),
        ("signature", str, "a quoted string"),
        ("credential_command", str, "a quoted string"),
        ("shared_quota", str, "a quoted redis:// URL"),
        ("read_only", bool, "true or false"),
        ("rate_limit", int, "a whole number"),
        ("refresh", (int, float), "a number of seconds"),
        ("request_timeout", (int, float), "a number of seconds"),
        ("on_event", str, "a quoted string"),
        ("max_answer_mb", int, "a whole number of MiB"),
    ):
        if key in table:
            value = table[key]
            if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
                raise ConfigError(
                    f"{where}: {key} has the wrong type ({type(value).__name__})",
                    f"make it {wanted}",
                )
            kwargs[key] = value
    mode = _mode(table, where)
    if "on_event_kinds" in table:
        kinds = table["on_event_kinds"]
        if not isinstance(kinds, list) or not all(isinstance(k, str) for k in kinds):
            raise ConfigError(
                f"{where}: on_event_kinds has the wrong type", 'make it a list: ["task_ended"]'
            )
        kwargs["on_event_kinds"] = tuple(kinds)
    credentials = None
    if isinstance(secret_table, dict) and _QUOTA_PASSWORD in secret_table:
        secret_table = dict(secret_table)
        password = secret_table.pop(_QUOTA_PASSWORD)
        if not isinstance(password, str):
            raise ConfigError(f"{credentials_path} [{name}]: {_QUOTA_PASSWORD} must be a string")
        if "shared_quota" in kwargs:
            kwargs["shared_quota"] = with_password(kwargs["shared_quota"], password)
        if not secret_table:
            secret_table = None  # the password alone: a profile without stored keys
    if secret_table is not None:
        credentials = _credentials(name, secret_table, credentials_path)
    try:
        return Profile(name, credentials=credentials, mode=mode, **kwargs)
    except ConfigError as exc:
        raise type(exc)(f"{where}: {exc.message}", exc.hint) from None


def _mode(table: Mapping[str, Any], where: str) -> ModeSettings | None:
    """The mode settings of a profile table, type-checked; the rules are the profile's."""
    mode = table.get("mode")
    extra = [name for name in SETTING_NAMES if name in table]
    if mode is None:
        if extra:
            raise ConfigError(
                f"{where}: {extra[0]} needs a mode", 'add mode = "RamRoleArn" (or another)'
            )
        return None
    if not isinstance(mode, str):
        raise ConfigError(f"{where}: mode has the wrong type", "make it a quoted string")
    values: dict[str, Any] = {}
    for name in extra:
        value = table[name]
        if name == "expired_seconds":
            ok = isinstance(value, int) and not isinstance(value, bool)
            wanted = "a whole number of seconds"
        elif name == "enable_vpc":
            ok, wanted = isinstance(value, bool), "true or false"
        else:
            ok, wanted = isinstance(value, str), "a quoted string"
        if not ok:
            raise ConfigError(
                f"{where}: {name} has the wrong type ({type(value).__name__})", f"make it {wanted}"
            )
        values[name] = value
    return ModeSettings(mode, **values)


def _credentials(name: str, table: object, path: Path) -> Credentials:
    where = f"{path} [{name}]"
    if not isinstance(table, dict):
        raise ConfigError(f"{where}: must be a table")
    _reject_unknown(table, _SECRET_KEYS, where)
    values: dict[str, str] = {}
    for key in _SECRET_KEYS:
        value = table.get(key, "")
        if not isinstance(value, str):
            raise ConfigError(f"{where}: {key} must be a string")
        values[key] = value
    if not values["access_key_id"] or not values["access_key_secret"]:
        raise CredentialsError(
            f"{where}: access_key_id and access_key_secret are both required",
            f"add them again: asrtui profile add {name} --access-key-id ID --replace",
        )
    credentials = Credentials(
        values["access_key_id"], values["access_key_secret"], values["security_token"]
    )
    # Here, before the profile is built, so that the message names the file.
    return check_credentials(credentials, source=f"profile '{name}' in {path}")


def _settings_table(profile: Profile) -> dict[str, Any]:
    table: dict[str, Any] = {
        "region": profile.region,
        "signature": profile.signature,
        "rate_limit": profile.rate_limit,
        "refresh": profile.refresh,
        "read_only": profile.read_only,
    }
    if profile.request_timeout != DEFAULT_REQUEST_TIMEOUT:
        # Written only when set: files of earlier versions stay as they were.
        table["request_timeout"] = profile.request_timeout
    if profile.max_answer_mb != DEFAULT_MAX_ANSWER_MB:
        table["max_answer_mb"] = profile.max_answer_mb
    if profile.endpoint is not None:
        table["endpoint"] = profile.endpoint
    if profile.shared_quota is not None:
        table["shared_quota"] = split_password(profile.shared_quota)[0]
    if profile.credential_command is not None:
        table["credential_command"] = profile.credential_command
    if profile.mode is not None:
        table.update(profile.mode.items())
    if profile.on_event is not None:
        table["on_event"] = profile.on_event
    if profile.on_event_kinds is not None:
        table["on_event_kinds"] = list(profile.on_event_kinds)
    return table


def _secrets_table(profile: Profile) -> dict[str, str]:
    """The profile's secrets: its AccessKey, its shared quota's password; empty when none."""
    table: dict[str, str] = {}
    credentials = profile.credentials
    if credentials is not None:
        table["access_key_id"] = credentials.access_key_id
        table["access_key_secret"] = credentials.access_key_secret
        if credentials.security_token:
            table["security_token"] = credentials.security_token
    if profile.shared_quota is not None:
        password = split_password(profile.shared_quota)[1]
        if password:
            table[_QUOTA_PASSWORD] = password
    return table
