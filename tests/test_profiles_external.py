"""External credential commands: parsing, caching, refresh before expiry, failures."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from asrtui.credentials import Credentials
from asrtui.credentials.external import CommandResult, ExternalCredentials
from asrtui.errors import CredentialsError
from tests.support.clock import FakeClock

START = datetime(2024, 5, 14, 12, 0, tzinfo=UTC)


class FakeRunner:
    """Answers with the queued outputs, recording each argv."""

    def __init__(self, *outputs: object, returncode: int = 0) -> None:
        self.outputs = list(outputs)
        self.calls: list[list[str]] = []
        self.returncode = returncode

    def __call__(self, argv: Sequence[str], timeout: float) -> CommandResult:
        self.calls.append(list(argv))
        out = self.outputs.pop(0) if len(self.outputs) > 1 else self.outputs[0]
        data = out if isinstance(out, bytes) else json.dumps(out).encode()
        return CommandResult(self.returncode, data)


def sts(n: int, expiration: object = None) -> dict[str, object]:
    out: dict[str, object] = {
        "mode": "StsToken",
        "access_key_id": f"STS.id{n}",
        "access_key_secret": f"sts-secret-{n}-abcdefgh",
        "sts_token": f"sts-token-{n}-abcdefgh",
    }
    if expiration is not None:
        out["expiration"] = expiration
    return out


def get(provider: ExternalCredentials) -> Credentials:
    """One request's ask, from outside a loop (a fetch in the background is waited for)."""

    async def ask() -> Credentials:
        credentials = await provider.get()
        await provider.settled()
        return credentials

    return asyncio.run(ask())


def test_command_is_split_without_shell() -> None:
    runner = FakeRunner({"mode": "AK", "access_key_id": "FAKE1", "access_key_secret": "x" * 20})
    creds = ExternalCredentials("get-creds --name 'my profile' $HOME", runner=runner)
    assert get(creds) == Credentials("FAKE1", "x" * 20)
    assert runner.calls == [["get-creds", "--name", "my profile", "$HOME"]]


def test_runs_once_then_caches_until_five_minutes_before_expiry() -> None:
    clock = FakeClock(START)
    expiry = (START + timedelta(hours=1)).isoformat().replace("+00:00", "Z")
    later_expiry = (START + timedelta(hours=2)).isoformat()
    runner = FakeRunner(sts(1, expiry), sts(2, later_expiry))
    provider = ExternalCredentials("cmd", clock=clock, runner=runner)
    first = get(provider)
    assert first == Credentials("STS.id1", "sts-secret-1-abcdefgh", "sts-token-1-abcdefgh")
    assert provider.expiration == START + timedelta(hours=1)
    clock.advance(minutes=54, seconds=59)
    assert get(provider) == first
    assert len(runner.calls) == 1
    clock.advance(seconds=1)  # 5 minutes before expiry: still valid, refreshed behind it
    assert get(provider) == first
    assert len(runner.calls) == 2
    assert get(provider).access_key_id == "STS.id2"
    clock.advance(minutes=30)
    get(provider)
    assert len(runner.calls) == 2


def test_without_expiration_reruns_every_fifteen_minutes() -> None:
    clock = FakeClock(START)
    runner = FakeRunner(sts(1), sts(2))
    provider = ExternalCredentials("cmd", clock=clock, runner=runner)
    get(provider)
    clock.advance(minutes=14, seconds=59)
    assert get(provider).access_key_id == "STS.id1"
    assert len(runner.calls) == 1
    clock.advance(seconds=1)
    get(provider)
    assert len(runner.calls) == 2
    assert get(provider).access_key_id == "STS.id2"


def test_short_lived_token_refreshes_half_way() -> None:
    clock = FakeClock(START)
    runner = FakeRunner(sts(1, (START + timedelta(minutes=4)).timestamp()), sts(2))
    provider = ExternalCredentials("cmd", clock=clock, runner=runner)
    get(provider)
    clock.advance(minutes=1, seconds=59)
    assert get(provider).access_key_id == "STS.id1"
    assert len(runner.calls) == 1
    clock.advance(seconds=1)
    get(provider)
    assert len(runner.calls) == 2
    assert get(provider).access_key_id == "STS.id2"


def test_an_expired_token_is_never_handed_out_while_the_command_runs() -> None:
    clock = FakeClock(START)
    runner = FakeRunner(sts(1, (START + timedelta(minutes=10)).timestamp()), sts(2))
    provider = ExternalCredentials("cmd", clock=clock, runner=runner)
    get(provider)
    clock.advance(minutes=10)
    assert get(provider).access_key_id == "STS.id2"


def test_naive_expiration_is_utc_and_invalidate_forces_a_run() -> None:
    clock = FakeClock(START)
    runner = FakeRunner(sts(1, "2024-05-14T13:00:00"), sts(2))
    provider = ExternalCredentials("cmd", clock=clock, runner=runner)
    get(provider)
    assert provider.expiration == START + timedelta(hours=1)
    provider.invalidate()
    assert get(provider).access_key_id == "STS.id2"


SECRETISH = "do-not-print-THIS-value"


@pytest.mark.parametrize(
    ("output", "returncode", "match"),
    [
        (SECRETISH.encode(), 0, "did not print JSON"),
        (b"\xff\xfe", 0, "did not print JSON"),
        ([SECRETISH], 0, "JSON object"),
        ({"mode": "RamRoleArn", "access_key_id": SECRETISH}, 0, "mode 'RamRoleArn'"),
        ({"mode": "AK", "access_key_id": SECRETISH}, 0, "no access_key_id or access_key_secret"),
        ({**sts(1), "sts_token": ""}, 0, "StsToken without sts_token"),
        ({**sts(1), "access_key_secret": 5}, 0, "non-string access_key_secret"),
        (sts(1, "yesterday"), 0, "unreadable expiration"),
        (sts(1, "2024-05-14T11:00:00Z"), 0, "already expired"),
        (sts(1), 3, "exit status 3"),
    ],
)
def test_failures_name_the_program_not_the_output(
    output: object, returncode: int, match: str
) -> None:
    runner = FakeRunner(output, returncode=returncode)
    provider = ExternalCredentials(
        f"/opt/bin/get-creds --token {SECRETISH}",
        clock=FakeClock(START),
        runner=runner,
        profile="p",
    )
    with pytest.raises(CredentialsError, match=match) as excinfo:
        get(provider)
    text = str(excinfo.value) + repr(excinfo.value)
    assert "'get-creds' of profile 'p'" in text
    assert SECRETISH not in text
    assert "sts-secret" not in text


@pytest.mark.parametrize(
    ("exc", "match"),
    [
        (subprocess.TimeoutExpired(["x"], 30), "within 30 s"),
        (FileNotFoundError(2, "No such file"), "was not found"),
        (PermissionError(13, "Permission denied"), "not executable"),
        (OSError(7, "Argument list too long"), "could not start"),
    ],
)
def test_runner_exceptions_become_credentials_errors(exc: BaseException, match: str) -> None:
    def runner(argv: Sequence[str], timeout: float) -> CommandResult:
        assert timeout == 30.0
        raise exc

    with pytest.raises(CredentialsError, match=match):
        get(ExternalCredentials("get-creds", runner=runner))


def test_unparseable_command() -> None:
    with pytest.raises(CredentialsError, match="quoting"):
        ExternalCredentials("get 'creds")
    with pytest.raises(CredentialsError, match="quoting"):
        ExternalCredentials("   ")


def test_repr_shows_program_only() -> None:
    text = repr(ExternalCredentials(f"/usr/bin/vault read --token={SECRETISH}"))
    assert text == "ExternalCredentials(program='vault')"


# -- the real runner, with a small Python script as the command ----------------------------


def _script(tmp_path: Path, body: str) -> str:
    script = tmp_path / "creds.py"
    script.write_text(body)
    return f"{sys.executable} {script}"


def test_real_command(tmp_path: Path) -> None:
    body = (
        "import json, sys\n"
        "print(json.dumps({'mode': 'StsToken', 'access_key_id': 'STS.real',"
        " 'access_key_secret': sys.argv[1], 'sts_token': 'tok-real-123456'}))\n"
        "print('noise on stderr', file=sys.stderr)\n"
    )
    provider = ExternalCredentials(_script(tmp_path, body) + " 'arg with space'")
    assert get(provider) == Credentials("STS.real", "arg with space", "tok-real-123456")


def test_real_command_failure(tmp_path: Path) -> None:
    body = f"import sys\nprint({SECRETISH!r}, file=sys.stderr)\nsys.exit(4)\n"
    with pytest.raises(CredentialsError, match="exit status 4") as excinfo:
        get(ExternalCredentials(_script(tmp_path, body)))
    assert SECRETISH not in str(excinfo.value)


def test_real_command_not_found(tmp_path: Path) -> None:
    with pytest.raises(CredentialsError, match="'missing' was not found"):
        get(ExternalCredentials(str(tmp_path / "missing")))


def test_real_command_timeout_kills_it(tmp_path: Path) -> None:
    body = "import time\ntime.sleep(30)\n"
    provider = ExternalCredentials(_script(tmp_path, body), timeout=0.3)
    with pytest.raises(CredentialsError, match=r"did not finish within 0\.3 s"):
        get(provider)
