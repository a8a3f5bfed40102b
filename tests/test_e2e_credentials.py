"""Every credential mode end to end through ``main``, against the emulator on a loopback socket.

The emulator serves the Live API, STS, the ECS metadata service and a credentials URI on one
port; each mode is configured the way a user would (``profile add``, the environment, the
aliyun CLI's file, the SDKs' ini file) and then used by ``tasks`` and explained by ``whoami``.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from asrtui.__main__ import main
from asrtui.emulator import EmulatorApp, IdentityServices, build_emulator

pytest.importorskip("uvicorn")

from asrtui.emulator.server import running_server

KEY_ID = "FAKEe2esource"
SECRET = "E2Esecret-0123456789abcdef"
ROLE = "acs:ram::1234567890123456:role/asr-operator"
OIDC_PROVIDER = "acs:ram::1234567890123456:oidc-provider/ack-rrsa"


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[EmulatorApp, str]]:
    identity = IdentityServices(instance_role="ecs-asr", oidc_tokens=["pod-token"])
    app = build_emulator(seed=5, tasks=4, credentials={KEY_ID: SECRET}, identity=identity)
    with running_server(app) as url:
        yield app, url


class Cli:
    def __init__(self, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch):
        self.capsys = capsys
        self.monkeypatch = monkeypatch
        self.seen = ""

    def __call__(self, *argv: str, stdin: str = "") -> tuple[int, str, str]:
        self.monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
        code = main(list(argv))
        out, err = self.capsys.readouterr()
        self.seen += out + err
        return code, out, err


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Iterator[Cli]:
    runner = Cli(capsys, monkeypatch)
    yield runner
    assert SECRET not in runner.seen
    assert "pod-token" not in runner.seen


def _tasks_and_whoami(cli: Cli, url: str, mode: str, *profile: str) -> str:
    code, out, err = cli("tasks", *profile, "--endpoint", url, "--format", "json")
    assert code == 0, err
    assert len(json.loads(out)) == 4
    code, out, err = cli("whoami", *profile, "--endpoint", url)
    assert code == 0, err
    assert "mode:" in out
    assert mode in out
    assert "expires:" in out
    return out


def test_ram_role_arn_profile(cli: Cli, served: tuple[EmulatorApp, str]) -> None:
    _, url = served
    code, _, err = cli(
        "profile", "add", "ops", "--mode", "RamRoleArn", "--access-key-id", KEY_ID,
        "--secret-stdin", "--role-arn", ROLE, "--sts-endpoint", url, "--endpoint", url,
        stdin=SECRET + "\n",
    )  # fmt: skip
    assert code == 0, err
    out = _tasks_and_whoami(cli, url, "RamRoleArn", "--profile", "ops")
    assert "****" in out  # the key id, masked
    assert "STS." not in out
    code, out, _ = cli("profile", "show", "ops")
    assert ROLE in out
    assert "RamRoleArn" in out


def test_chainable_role_profile(cli: Cli, served: tuple[EmulatorApp, str]) -> None:
    _, url = served
    cli(
        "profile", "add", "ops", "--mode", "RamRoleArn", "--access-key-id", KEY_ID,
        "--secret-stdin", "--role-arn", ROLE, "--sts-endpoint", url, stdin=SECRET + "\n",
    )  # fmt: skip
    code, _, err = cli(
        "profile", "add", "prod", "--mode", "ChainableRamRoleArn", "--source-profile", "ops",
        "--role-arn", "acs:ram::1234567890123456:role/asr-prod", "--sts-endpoint", url,
    )  # fmt: skip
    assert code == 0, err
    _tasks_and_whoami(cli, url, "ChainableRamRoleArn", "--profile", "prod")


def test_ecs_ram_role_profile(
    cli: Cli, served: tuple[EmulatorApp, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, url = served
    monkeypatch.setenv("ASRTUI_ECS_METADATA_URL", url)
    code, _, err = cli("profile", "add", "jump", "--mode", "EcsRamRole")
    assert code == 0, err
    _tasks_and_whoami(cli, url, "EcsRamRole", "--profile", "jump")


def test_oidc_from_the_environment(
    cli: Cli, served: tuple[EmulatorApp, str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _, url = served
    token = tmp_path / "token"
    token.write_text("pod-token\n")
    monkeypatch.setenv("ALIBABA_CLOUD_ROLE_ARN", ROLE)
    monkeypatch.setenv("ALIBABA_CLOUD_OIDC_PROVIDER_ARN", OIDC_PROVIDER)
    monkeypatch.setenv("ALIBABA_CLOUD_OIDC_TOKEN_FILE", str(token))
    monkeypatch.setenv("ALIBABA_CLOUD_STS_ENDPOINT", url)
    out = _tasks_and_whoami(cli, url, "OIDC")
    assert "ALIBABA_CLOUD_ACCESS_KEY_ID is not set" in out


def test_credentials_uri_from_the_environment(
    cli: Cli, served: tuple[EmulatorApp, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, url = served
    monkeypatch.setenv("ALIBABA_CLOUD_CREDENTIALS_URI", url + "/credentials")
    _tasks_and_whoami(cli, url, "CredentialsURI")


def test_env_access_key_with_a_role_arn(
    cli: Cli, served: tuple[EmulatorApp, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, url = served
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_ID", KEY_ID)
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET", SECRET)
    monkeypatch.setenv("ALIBABA_CLOUD_ROLE_ARN", ROLE)
    monkeypatch.setenv("ALIBABA_CLOUD_STS_ENDPOINT", url)
    _tasks_and_whoami(cli, url, "RamRoleArn")


def test_aliyun_cli_profile_read_live(
    cli: Cli, served: tuple[EmulatorApp, str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _, url = served
    home = Path.home()
    (home / ".aliyun").mkdir()
    entry = {
        "name": "cliops",
        "mode": "RamRoleArn",
        "access_key_id": KEY_ID,
        "access_key_secret": SECRET,
        "ram_role_arn": ROLE,
    }
    (home / ".aliyun" / "config.json").write_text(
        json.dumps({"current": "cliops", "profiles": [entry]})
    )
    monkeypatch.setenv("ALIBABA_CLOUD_STS_ENDPOINT", url)
    # Straight from the chain (no asrtui profile at all) ...
    _tasks_and_whoami(cli, url, "RamRoleArn")
    # ... and through an asrtui profile that points at it.
    code, _, err = cli("profile", "add", "p", "--aliyun-profile", "cliops")
    assert code == 0, err
    _tasks_and_whoami(cli, url, "RamRoleArn", "--profile", "p")
    # import-aliyun copies it, mode and all.
    code, out, err = cli("profile", "import-aliyun")
    assert code == 0, err
    assert "imported cliops" in out
    _tasks_and_whoami(cli, url, "RamRoleArn", "--profile", "cliops")


def test_credentials_ini(
    cli: Cli, served: tuple[EmulatorApp, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, url = served
    home = Path.home()
    (home / ".alibabacloud").mkdir()
    (home / ".alibabacloud" / "credentials.ini").write_text(
        f"[default]\ntype = ram_role_arn\naccess_key_id = {KEY_ID}\n"
        f"access_key_secret = {SECRET}\nrole_arn = {ROLE}\n"
    )
    monkeypatch.setenv("ALIBABA_CLOUD_STS_ENDPOINT", url)
    _tasks_and_whoami(cli, url, "RamRoleArn")


@pytest.mark.parametrize(
    ("argv", "code_expected", "text"),
    [
        (("--mode", "CloudSSO"), 2, "web browser"),
        (("--mode", "OAuth"), 2, "web browser"),
        (("--mode", "RamRoleArn"), 2, "needs ram_role_arn"),
        (("--role-arn", ROLE), 2, "needs --mode"),
        (("--mode", "EcsRamRole", "--access-key-id", KEY_ID), 2, "takes no stored AccessKey"),
    ],
)
def test_profile_add_refusals(
    cli: Cli, argv: tuple[str, ...], code_expected: int, text: str
) -> None:
    code, _, err = cli("profile", "add", "p", *argv)
    assert code == code_expected
    assert text in err


def test_failures_exit_2_for_configuration_and_1_for_a_service(
    cli: Cli, served: tuple[EmulatorApp, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, url = served
    cli(
        "profile", "add", "wrong", "--mode", "RamRoleArn", "--access-key-id", KEY_ID,
        "--secret-stdin", "--role-arn", ROLE, "--sts-endpoint", url,
        stdin="not-the-secret-123\n",
    )  # fmt: skip
    code, _, err = cli("tasks", "--profile", "wrong", "--endpoint", url)
    assert code == 2
    assert "SignatureDoesNotMatch" in err
    assert "not-the-secret" not in err
    # A credentials URI where nothing listens: a failing service, not a configuration.
    assert cli("profile", "remove", "wrong")[0] == 0
    monkeypatch.setenv("ALIBABA_CLOUD_CREDENTIALS_URI", "http://127.0.0.1:9/credentials")
    code, _, err = cli("tasks", "--endpoint", url)
    assert code == 1
    assert "credentials URI http://127.0.0.1:9/credentials" in err
    code, _, err = cli("whoami")
    assert code == 1, err
