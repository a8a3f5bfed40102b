"""``asrtui profile ...`` end to end through ``main``: flows, exit codes, no secret in output."""

from __future__ import annotations

import io
import json
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from asrtui.__main__ import main
from asrtui.credentials import Credentials
from asrtui.profiles import Profile, ProfileStore
from asrtui.quotaurl import split_password, url_password, with_password

SECRET = "CLIsecret-0123456789abcdefWXYZ"
TOKEN = "CLItoken-zyxwvutsrqponmlk9876"


class _Terminal(io.StringIO):
    """A stdin that says it is a terminal (the prompt's own reads are faked)."""

    def isatty(self) -> bool:
        return True


class Run:
    """Runs ``main`` with an optional stdin and collects everything it printed."""

    def __init__(self, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch):
        self.capsys = capsys
        self.monkeypatch = monkeypatch
        self.transcript: list[str] = []

    def __call__(self, *argv: str, stdin: str = "", terminal: bool = False) -> tuple[int, str, str]:
        self.monkeypatch.setattr("sys.stdin", _Terminal(stdin) if terminal else io.StringIO(stdin))
        code = main(list(argv))
        out, err = self.capsys.readouterr()
        self.transcript += [out, err]
        return code, out, err


@pytest.fixture
def run(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Run:
    return Run(capsys, monkeypatch)


@pytest.fixture(autouse=True)
def prompt_answers(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Fail loudly if a test reaches the real prompt; tests queue answers in the list."""
    answers: list[str] = []

    def fake_getpass(prompt: str = "") -> str:
        if not answers:
            raise AssertionError(f"unexpected prompt {prompt!r}")
        return answers.pop(0)

    monkeypatch.setattr("getpass.getpass", fake_getpass)
    return answers


def test_add_with_secret_from_stdin(run: Run) -> None:
    code, out, err = run(
        "profile", "add", "prod", "--access-key-id", "FAKEprod", "--secret-stdin",
        "--region", "cn-beijing", "--rate-limit", "8", "--refresh", "2", "--read-only",
        "--signature", "rpc", "--endpoint", "http://127.0.0.1:9000",
        stdin=SECRET + "\n",
    )  # fmt: skip
    assert (code, err) == (0, "")
    assert "Saved profile 'prod' (default)" in out
    profile = ProfileStore().load().get("prod")
    assert profile.credentials == Credentials("FAKEprod", SECRET)
    assert (profile.region, profile.rate_limit, profile.refresh) == ("cn-beijing", 8, 2.0)
    assert (profile.read_only, profile.signature) == (True, "rpc")
    assert profile.endpoint == "http://127.0.0.1:9000"
    assert SECRET not in "".join(run.transcript)


def test_add_with_sts_token_from_stdin(run: Run) -> None:
    code, _, _ = run(
        "profile", "add", "sts", "--access-key-id", "STS.x", "--secret-stdin",
        "--sts-token-stdin", stdin=f"{SECRET}\n{TOKEN}\n",
    )  # fmt: skip
    assert code == 0
    assert ProfileStore().load().get("sts").credentials == Credentials("STS.x", SECRET, TOKEN)
    code, out, _ = run("profile", "show", "sts")
    assert code == 0
    assert "security token:    set\n" in out
    assert TOKEN[-4:] not in out
    assert SECRET not in "".join(run.transcript)
    assert TOKEN not in "".join(run.transcript)


def test_add_prompts_for_secret(run: Run, prompt_answers: list[str]) -> None:
    prompt_answers.append(SECRET)
    assert run("profile", "add", "p", "--access-key-id", "FAKEp", terminal=True)[0] == 0
    assert ProfileStore().load().get("p").credentials == Credentials("FAKEp", SECRET)


def test_add_refuses_empty_secret(run: Run, prompt_answers: list[str]) -> None:
    prompt_answers.append("")
    code, _, err = run("profile", "add", "p", "--access-key-id", "FAKEp", terminal=True)
    assert code == 2
    assert "No AccessKey secret entered" in err
    code, _, err = run("profile", "add", "p", "--access-key-id", "FAKEp", "--secret-stdin")
    assert code == 2
    assert "No AccessKey secret on stdin" in err
    assert not ProfileStore().config_path.exists()


def test_a_secret_piped_without_secret_stdin_is_refused_with_the_option_to_use(
    run: Run,
) -> None:
    """No prompt (it would read the pipe shown, with Python's GetPassWarning), nothing saved."""
    code, out, err = run("profile", "add", "p", "--access-key-id", "FAKEp", stdin=SECRET + "\n")
    assert code == 2
    assert "--secret-stdin" in err
    assert "Warning" not in err
    assert SECRET not in out + err
    assert not ProfileStore().config_path.exists()


def test_add_with_credential_command(run: Run) -> None:
    code, _, _ = run("profile", "add", "ext", "--credential-command", "get-creds --x")
    assert code == 0
    assert ProfileStore().load().get("ext").credential_command == "get-creds --x"
    code, _, err = run(
        "profile", "add", "both", "--credential-command", "c", "--access-key-id", "FAKE"
    )
    assert code == 2
    assert "cannot be combined" in err


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--rate-limit", "21"], "Invalid rate limit"),
        (["--refresh", "0"], "Invalid refresh interval"),
        (["--region", "Bad_Region"], "Invalid region id"),
        (["--endpoint", "ftp://x"], "endpoint"),
    ],
)
def test_add_validates_before_prompting(run: Run, extra: list[str], message: str) -> None:
    code, out, err = run("profile", "add", "p", "--access-key-id", "FAKE", *extra)
    assert code == 2
    assert message in err
    assert err.count("\n") == 1
    assert "Traceback" not in out + err


def test_add_usage_errors(run: Run) -> None:
    code, _, err = run("profile", "add", "p")
    assert code == 2
    assert "--access-key-id" in err
    code, _, err = run("profile", "add", "bad name", "--access-key-id", "X")
    assert code == 2
    assert "Invalid profile name" in err
    code, _, _ = run("profile", "add", "p", "--signature", "v2")
    assert code == 2  # argparse rejects the choice
    code, _, err = run("profile")
    assert code == 2
    assert "choose an action" in err


def test_add_existing_needs_replace(run: Run) -> None:
    args = ["profile", "add", "p", "--access-key-id", "FAKE", "--secret-stdin"]
    assert run(*args, stdin=SECRET)[0] == 0
    code, _, err = run(*args, stdin="other-secret-1234567")
    assert code == 2
    assert "--replace" in err
    assert run(*args, "--replace", stdin="other-secret-1234567")[0] == 0
    assert ProfileStore().load().get("p").credentials == Credentials("FAKE", "other-secret-1234567")


def _add(run: Run, name: str, *extra: str) -> None:
    code, _, err = run(
        "profile", "add", name, "--access-key-id", f"FAKE{name}000", "--secret-stdin", *extra,
        stdin=SECRET,
    )  # fmt: skip
    assert code == 0, err


def test_list_use_remove(run: Run) -> None:
    code, out, _ = run("profile", "list")
    assert code == 0
    assert "No profiles" in out
    assert "profile add" in out
    _add(run, "prod")
    _add(run, "stage", "--region", "ap-southeast-1")
    code, out, _ = run("profile", "list")
    lines = out.splitlines()
    assert lines[0].split() == [
        "NAME",
        "REGION",
        "SIGNATURE",
        "LIMIT",
        "MODE",
        "QUOTA",
        "CREDENTIALS",
    ]
    assert lines[1].startswith("*")
    assert "prod" in lines[1]
    assert not lines[2].startswith("*")
    assert "ap-southeast-1" in lines[2]
    assert run("profile", "use", "stage")[0] == 0
    assert run("profile", "list")[1].splitlines()[2].startswith("*")
    code, out, _ = run("profile", "remove", "stage")
    assert code == 0
    assert "was the default" in out
    assert ProfileStore().load().default is None
    code, _, err = run("profile", "use", "stage")
    assert code == 2
    assert "No profile named 'stage'" in err
    code, _, err = run("profile", "remove", "stage")
    assert code == 2
    code, _, err = run("profile", "show", "stage")
    assert code == 2
    assert SECRET not in "".join(run.transcript)


def test_show_says_whether_a_secret_is_set_never_a_part_or_its_length(run: Run) -> None:
    """Seen: ``show`` printed the last 4 characters of the secret and the token, and stars."""
    _add(run, "prod", "--read-only")
    code, out, _ = run("profile", "show", "prod")
    assert code == 0
    assert "access key secret: set\n" in out
    assert "security token:    not set\n" in out
    assert "read-only:         yes" in out
    assert "FAKEprod000" in out
    assert SECRET[-4:] not in out
    assert "*" not in out


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    secrets=st.lists(st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1),
                     min_size=2, max_size=2),
    tokens=st.lists(st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1),
                    min_size=2, max_size=2),
)  # fmt: skip
def test_show_is_the_same_whatever_the_secret_and_token(
    capsys: pytest.CaptureFixture[str], secrets: list[str], tokens: list[str]
) -> None:
    """Two profiles that differ only in their secret and token are shown alike."""
    shown = []
    for secret, token in zip(secrets, tokens, strict=True):
        ProfileStore().add(
            Profile("p", credentials=Credentials("FAKEp", secret, token)), replace=True
        )
        assert main(["profile", "show", "p"]) == 0
        shown.append(capsys.readouterr().out)
    assert shown[0] == shown[1]


def test_show_masks_a_secret_in_the_credential_command(run: Run) -> None:
    ProfileStore().add(Profile("c", credential_command=f"get-creds --password={SECRET} --x 1"))
    code, out, _ = run("profile", "show", "c")
    assert code == 0
    assert "command: get-creds --password=**** --x 1" in " ".join(out.split())
    assert SECRET not in out


def test_corrupted_store_is_one_line_exit_2(run: Run) -> None:
    _add(run, "prod")
    config = ProfileStore().config_path
    config.write_text("default = \n")
    for argv in (["profile", "list"], ["profile", "use", "prod"], ["profile", "show", "prod"]):
        code, _out, err = run(*argv)
        assert code == 2
        assert err.count("\n") == 1
        assert f"{config}" in err
        assert "line 1" in err
    assert config.read_text() == "default = \n"


def test_world_readable_credentials(run: Run) -> None:
    _add(run, "prod")
    path = ProfileStore().credentials_path
    path.chmod(0o644)
    code, _, err = run("profile", "list")
    assert code == 2
    assert f"chmod 600 {path}" in err


# -- test ------------------------------------------------------------------------------------

QUERY_BODY = {
    "Description": "success",
    "RequestId": "D8ADAB55-1BB8-5C01-8434-C45D353BB1FD",
    "RetCode": 2000,
    "Tasks": {
        f"asr-{n}": {"taskId": f"asr-{n}", "status": 1, "mode": "live", "language": "cn"}
        for n in range(3)
    },
}


@pytest.fixture
def fake_api(monkeypatch: pytest.MonkeyPatch) -> Callable[[Any, int], list[httpx.Request]]:
    """Make every client the composition root opens answer with ``body``; returns the requests."""
    import asrtui.connect

    def install(body: Any, status: int = 200) -> list[httpx.Request]:
        seen: list[httpx.Request] = []

        def handler(request: httpx.Request) -> httpx.Response:
            seen.append(request)
            return httpx.Response(status, json=body)

        original = asrtui.connect.LiveClient

        class MockedClient(original):  # type: ignore[misc, valid-type]
            def __init__(self, *args: Any, **kwargs: Any) -> None:
                kwargs["transport"] = httpx.MockTransport(handler)
                kwargs["max_attempts"] = 1
                super().__init__(*args, **kwargs)

        monkeypatch.setattr(asrtui.connect, "LiveClient", MockedClient)
        return seen

    return install


def test_profile_test_counts_running_tasks(run: Run, fake_api: Any) -> None:
    seen = fake_api(QUERY_BODY)
    _add(run, "prod", "--endpoint", "http://127.0.0.1:9000", "--region", "cn-beijing")
    code, out, err = run("profile", "test", "prod")
    assert (code, err) == (0, "")
    assert "Profile 'prod' works: 3 running tasks" in out
    assert len(seen) == 1
    assert seen[0].url.host == "127.0.0.1"
    assert seen[0].url.port == 9000
    assert "FAKEprod000" in seen[0].headers["authorization"]
    assert SECRET not in "".join(run.transcript)


def test_profile_test_honours_global_endpoint(run: Run, fake_api: Any) -> None:
    seen = fake_api({**QUERY_BODY, "Tasks": {}})
    _add(run, "prod")
    code, out, _ = run("--endpoint", "http://localhost:1234", "profile", "test", "prod")
    assert code == 0
    assert "0 running tasks" in out
    assert seen[0].url.host == "localhost"


def test_profile_test_reports_api_error_with_hint(run: Run, fake_api: Any) -> None:
    fake_api(
        {
            "RequestId": "REQ-1",
            "HostId": "live.aliyuncs.com",
            "Code": "SignatureDoesNotMatch",
            "Message": "The request signature does not conform to Aliyun standards.",
        },
        400,
    )
    _add(run, "prod")
    code, out, err = run("profile", "test", "prod")
    assert code == 1
    assert out == ""
    assert err.count("\n") == 1
    assert "SignatureDoesNotMatch" in err
    assert "check the AccessKey secret" in err
    assert SECRET not in err


def test_profile_test_unknown_profile(run: Run) -> None:
    code, _, err = run("profile", "test", "nope")
    assert code == 2
    assert "No profile named 'nope'" in err


# -- import-aliyun ---------------------------------------------------------------------------


def _aliyun_file(tmp_path: Path) -> Path:
    path = tmp_path / "aliyun.json"
    path.write_text(
        json.dumps(
            {
                "current": "sts",
                "profiles": [
                    {"name": "ak", "mode": "AK", "access_key_id": "FAKEak",
                     "access_key_secret": SECRET, "region_id": "cn-hangzhou"},
                    {"name": "sts", "mode": "StsToken", "access_key_id": "STS.a",
                     "access_key_secret": SECRET, "sts_token": TOKEN},
                    {"name": "ext", "mode": "External", "process_command": "get-creds"},
                    {"name": "role", "mode": "RamRoleArn"},
                ],
            }
        )
    )  # fmt: skip
    return path


def test_import_aliyun(run: Run, tmp_path: Path) -> None:
    path = _aliyun_file(tmp_path)
    code, out, _ = run("profile", "import-aliyun", "--file", str(path))
    assert code == 0
    assert "imported sts (default)" in out
    assert "imported ak:" in out
    assert "imported ext:" in out
    assert "skipped  role: mode RamRoleArn" in out
    loaded = ProfileStore().load()
    assert list(loaded.profiles) == ["ak", "sts", "ext"]
    assert loaded.default == "sts"
    assert loaded.get("sts").credentials == Credentials("STS.a", SECRET, TOKEN)
    # A second import skips what exists, unless --replace.
    code, out, _ = run("profile", "import-aliyun", "--file", str(path), "--only", "ak")
    assert code == 0
    assert "skipped  ak: a profile of that name exists" in out
    assert "Nothing imported" in out
    code, out, _ = run("profile", "import-aliyun", "--file", str(path), "--only", "ak", "--replace")
    assert "imported ak:" in out
    assert SECRET not in "".join(run.transcript)
    assert TOKEN not in "".join(run.transcript)


def test_import_aliyun_default_file_and_errors(run: Run, tmp_path: Path) -> None:
    code, _, err = run("profile", "import-aliyun")
    assert code == 2
    assert "No aliyun CLI config at" in err
    assert ".aliyun/config.json" in err
    home_file = Path.home() / ".aliyun" / "config.json"
    home_file.parent.mkdir()
    home_file.write_text(_aliyun_file(tmp_path).read_text())
    code, out, _ = run("profile", "import-aliyun", "--only", "ext")
    assert code == 0
    assert "imported ext (default): command get-creds" in out
    code, _, err = run("profile", "import-aliyun", "--only", "zzz")
    assert code == 2
    assert "No profile named 'zzz'" in err


@pytest.mark.parametrize(
    "command",
    [
        "op read --secret hunter2-SECRETX",
        "get-creds --token hunter2-SECRETX --x 1",
        "get-creds --api-key=hunter2-SECRETX",
        "get-creds -p x --password hunter2-SECRETX",
    ],
)
def test_show_masks_the_value_of_any_secret_option_of_the_command(run: Run, command: str) -> None:
    ProfileStore().add(Profile("c", credential_command=command))
    code, out, _ = run("profile", "show", "c")
    assert code == 0
    assert "hunter2-SECRETX" not in out
    assert "get-creds" in out or "op read" in out


def test_the_global_read_only_option_does_not_make_an_added_profile_read_only(run: Run) -> None:
    code, _, _ = run("--read-only", "profile", "add", "w", "--credential-command", "get-creds")
    assert code == 0
    assert ProfileStore().load().profiles["w"].read_only is False
    code, _, _ = run("profile", "add", "r", "--credential-command", "get-creds", "--read-only")
    assert code == 0
    assert ProfileStore().load().profiles["r"].read_only is True


# --- the shared quota's Redis URL: its password is a secret ------------------------------------

REDIS_PASSWORD = "redisPW-0123/4567@8:9%ab"


def _store_files() -> tuple[str, str]:
    store = ProfileStore()
    return store.config_path.read_text(), store.credentials_path.read_text()


def test_add_with_a_shared_quota_keeps_its_password_with_the_secrets(run: Run) -> None:
    code, out, err = run(
        "profile", "add", "prod", "--access-key-id", "FAKEprod", "--secret-stdin",
        "--shared-quota", "redis://quota.example:6380/2", "--shared-quota-password-stdin",
        stdin=f"{SECRET}\n{REDIS_PASSWORD}\n",
    )  # fmt: skip
    assert (code, err) == (0, "")
    profile = ProfileStore().load().get("prod")
    assert profile.shared_quota is not None
    assert url_password(profile.shared_quota) == REDIS_PASSWORD
    config, secrets = _store_files()
    assert 'shared_quota = "redis://quota.example:6380/2"' in config
    assert REDIS_PASSWORD not in config
    assert "shared_quota_password" in secrets
    assert REDIS_PASSWORD not in repr(profile)
    code, out, _ = run("profile", "show", "prod")
    assert "shared quota:      redis://:****@quota.example:6380/2" in out
    code, out, _ = run("profile", "list")
    assert "redis://:****@quota.example:6380/2" in out
    assert REDIS_PASSWORD not in "".join(run.transcript)
    assert SECRET not in "".join(run.transcript)


def test_a_shared_quota_without_a_password_and_a_profile_without_stored_keys(run: Run) -> None:
    code, _, err = run(
        "profile", "add", "cmd", "--credential-command", "print-creds --json",
        "--shared-quota", "rediss://quota.example/0", "--shared-quota-password-stdin",
        stdin=f"{REDIS_PASSWORD}\n",
    )  # fmt: skip
    assert (code, err) == (0, "")
    assert run("profile", "add", "plain", "--credential-command", "x", "--shared-quota",
               "redis://h")[0] == 0  # fmt: skip
    profiles = ProfileStore().load()
    assert profiles.get("cmd").shared_quota == with_password(
        "rediss://quota.example/0", REDIS_PASSWORD
    )
    assert profiles.get("cmd").credentials is None
    assert profiles.get("plain").shared_quota == "redis://h"
    config, _ = _store_files()
    assert REDIS_PASSWORD not in config
    # Dropping the profile drops its password too.
    assert run("profile", "remove", "cmd")[0] == 0
    assert REDIS_PASSWORD not in "".join(_store_files())


@pytest.mark.parametrize(
    ("extra", "stdin", "message"),
    [
        (["--shared-quota", f"redis://:{REDIS_PASSWORD.replace('/', '%2F').replace('@', '%40')}@h"],
         "", "holds a password"),
        (["--shared-quota", "http://h:6379"], "", "must be redis://"),
        (["--shared-quota-password-stdin"], "pw\n", "needs --shared-quota"),
        (["--shared-quota", "redis://h", "--shared-quota-password-stdin"], "", "No Redis password"),
    ],
    ids=["password-in-url", "not-redis", "password-without-url", "no-password-line"],
)  # fmt: skip
def test_add_refuses_a_shared_quota_it_cannot_keep_safely(
    run: Run, extra: list[str], stdin: str, message: str
) -> None:
    code, out, err = run(
        "profile", "add", "p", "--credential-command", "x", *extra, stdin=stdin
    )  # fmt: skip
    assert code == 2
    assert message in err
    assert "Traceback" not in err
    assert REDIS_PASSWORD not in out + err
    assert not ProfileStore().config_path.exists() or "p" not in ProfileStore().load().profiles


def test_a_password_an_earlier_version_wrote_into_the_url_is_read_and_moved(run: Run) -> None:
    run("profile", "add", "old", "--credential-command", "x")
    store = ProfileStore()
    config = store.config_path.read_text()
    url = with_password("redis://h:6379/0", REDIS_PASSWORD)
    store.config_path.write_text(config + f'shared_quota = "{url}"\n')
    assert store.load().get("old").shared_quota == url
    assert run("profile", "use", "old")[0] == 0  # any write moves it
    config, secrets = _store_files()
    assert REDIS_PASSWORD not in config
    assert "shared_quota_password" in secrets
    assert store.load().get("old").shared_quota == url


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(password=st.text(st.characters(codec="utf-8", exclude_categories=["Cs", "Cc"]),
                        min_size=1, max_size=30).filter(lambda p: p.strip() == p))  # fmt: skip
def test_any_redis_password_round_trips_through_the_store_and_never_into_settings(
    password: str,
) -> None:
    url = with_password("redis://user@quota.example:6379/0", password)
    assert url_password(url) == password
    assert split_password(url) == ("redis://user@quota.example:6379/0", password)
    store = ProfileStore()
    store.add(Profile("q", credential_command="x", shared_quota=url), replace=True)
    assert store.load().get("q").shared_quota == url
    settings = tomllib.loads(store.config_path.read_text())["profiles"]["q"]
    assert settings["shared_quota"] == "redis://user@quota.example:6379/0"
    assert tomllib.loads(store.credentials_path.read_text())["q"] == {
        "shared_quota_password": password
    }
