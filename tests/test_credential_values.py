"""Credentials holding a control or non-ASCII character are a configuration error, everywhere.

A value with a stray CR, LF, NUL, any other C0/C1 control, DEL or a non-ASCII character cannot go
into an HTTP header. It is refused where it is read (the environment, the credentials file, a
credential command, the aliyun CLI config, a profile being added), with a `CredentialsError`
that names the field and where it came from, never shows the value, exits with code 2 and is not
retried. If such a value reaches the client anyway, the HTTP library's refusal (which quotes the
header value) is neither retried nor shown.
"""

from __future__ import annotations

import json
import string
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from asrtui.client import LiveClient
from asrtui.credentials import Credentials, credential_value_problem
from asrtui.credentials.chain import resolve_connection_settings
from asrtui.credentials.external import CommandResult, ExternalCredentials
from asrtui.emulator import DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET, build_emulator
from asrtui.errors import CredentialsError
from asrtui.profiles import Profile, ProfileStore
from asrtui.profiles.aliyun import read_aliyun_config
from asrtui.ratelimit import WindowLimiter
from tests.support.fakes import credentials_now

PROPERTY = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
MARKER = "Zq9CredentialMarker"

#: Characters a credential can never hold: every C0 control, DEL, every C1 control, non-ASCII.
bad_chars = st.one_of(
    st.characters(min_codepoint=0, max_codepoint=0x1F),
    st.just("\x7f"),
    st.characters(min_codepoint=0x80, max_codepoint=0x9F),
    st.characters(min_codepoint=0xA0, exclude_categories=("Cs",)),
)
tails = st.text(string.ascii_letters + string.digits, min_size=4, max_size=12)
FIELDS = ("access_key_id", "access_key_secret", "security_token")
#: The seen case and its neighbours, as a table.
SEEN = ["\r\n", "\r", "\n", "\x00", "\x1b[2J", "\x7f", "\x85", "\u00a0", "\u2028", "\u201c"]


def place(char: str, tail: str, where: str) -> str:
    value = MARKER + tail
    if where == "start":
        return char + value
    if where == "end":
        return value + char
    return value[:5] + char + value[5:]


def values_with(field: str, bad: str) -> dict[str, str]:
    """Good values for every field but ``field``, which is ``bad``."""
    values = {
        "access_key_id": "FAKEkeyid",
        "access_key_secret": "goodsecret",
        "security_token": "goodtoken",
    }
    values[field] = bad
    return values


def assert_refused(error: CredentialsError, field_name: str, source: str) -> None:
    text = f"{error} {error!r} {error.hint}"
    assert MARKER not in text
    assert field_name in error.message
    assert source in error.message
    assert error.exit_code == 2
    assert not error.retryable


def toml_string(value: str) -> str:
    """A TOML basic string holding ``value`` exactly (every non-printable escaped)."""
    out = []
    for char in value:
        if char in string.ascii_letters + string.digits + " -_.":
            out.append(char)
        elif ord(char) > 0xFFFF:
            out.append(f"\\U{ord(char):08X}")
        else:
            out.append(f"\\u{ord(char):04X}")
    return '"' + "".join(out) + '"'


# --- the check itself --------------------------------------------------------------------------


@PROPERTY
@given(bad_chars, tails, st.sampled_from(("start", "middle", "end")))
def test_every_bad_character_anywhere_is_a_problem(char: str, tail: str, where: str) -> None:
    problem = credential_value_problem(place(char, tail, where))
    assert problem is not None
    assert MARKER not in problem
    assert char not in problem


@given(st.text(string.printable.strip() + " ", max_size=40))
def test_printable_ascii_is_fine(value: str) -> None:
    assert credential_value_problem(value) is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("tok\r\n", "ends with a carriage return (CR) and a line feed (LF)"),
        ("tok\n", "ends with a line feed (LF)"),
        ("\x00tok", "starts with a NUL"),
        ("to\x1bk", "holds a control character (U+001B)"),
        ("tok\u00e9", "ends with a non-ASCII character"),
    ],
)
def test_the_problem_says_what_and_where(value: str, expected: str) -> None:
    assert credential_value_problem(value) == expected


# --- every place credentials are read ----------------------------------------------------------


@PROPERTY
@given(bad_chars, tails, st.sampled_from(("start", "middle", "end")), st.sampled_from(FIELDS))
def test_the_credentials_file_refuses_them(
    tmp_path_factory: pytest.TempPathFactory, char: str, tail: str, where: str, field: str
) -> None:
    store = ProfileStore(tmp_path_factory.mktemp("store"))
    store.add(Profile("p", credentials=Credentials("FAKEkeyid", "goodsecret", "goodtoken")))
    good = values_with("", "")
    text = store.credentials_path.read_text()
    bad = place(char, tail, where)
    text = text.replace(f'"{good[field]}"', toml_string(bad))
    store.credentials_path.write_text(text)
    with pytest.raises(CredentialsError) as caught:
        store.load()
    assert_refused(caught.value, field, str(store.credentials_path))
    assert "profile 'p'" in caught.value.message


@PROPERTY
@given(bad_chars, tails, st.sampled_from(FIELDS))
def test_the_environment_refuses_them(
    tmp_path_factory: pytest.TempPathFactory, char: str, tail: str, field: str
) -> None:
    """Surrounding whitespace of a variable is ignored (as always); anything else is refused."""
    if char == "\x00":
        return  # an environment variable cannot hold a NUL
    names = {
        "access_key_id": "ALIBABA_CLOUD_ACCESS_KEY_ID",
        "access_key_secret": "ALIBABA_CLOUD_ACCESS_KEY_SECRET",
        "security_token": "ALIBABA_CLOUD_SECURITY_TOKEN",
    }
    env = {names[name]: value for name, value in values_with(field, "").items()}
    env[names[field]] = place(char, tail, "middle")
    with pytest.raises(CredentialsError) as caught:
        resolve_connection_settings(
            profile=None,
            endpoint=None,
            region=None,
            signature=None,
            env=env,
            store=ProfileStore(tmp_path_factory.mktemp("store")),
        )
    assert_refused(caught.value, names[field], "the environment")


@PROPERTY
@given(bad_chars, tails, st.sampled_from(("start", "middle", "end")), st.sampled_from(FIELDS))
def test_a_credential_command_is_refused(char: str, tail: str, where: str, field: str) -> None:
    key = {"security_token": "sts_token"}.get(field, field)
    printed = values_with(field, place(char, tail, where))
    printed["sts_token"] = printed.pop("security_token")
    output = json.dumps({"mode": "StsToken", **printed}).encode()

    def runner(argv: object, timeout: float) -> CommandResult:
        return CommandResult(0, output)

    command = ExternalCredentials("get-creds --profile x", runner=runner, profile="ext")
    with pytest.raises(CredentialsError) as caught:
        credentials_now(command)
    assert_refused(caught.value, key, "credential command 'get-creds' of profile 'ext'")


@pytest.mark.parametrize("bad", SEEN)
@pytest.mark.parametrize("field", FIELDS)
def test_a_profile_being_added_is_refused(bad: str, field: str) -> None:
    values = values_with(field, MARKER + bad + "x")
    with pytest.raises(CredentialsError) as caught:
        Profile("p", credentials=Credentials(**values))
    assert_refused(caught.value, field, "profile 'p'")


@pytest.mark.parametrize("bad", SEEN)
def test_an_aliyun_profile_is_skipped_with_the_reason(tmp_path: Path, bad: str) -> None:
    entry = {
        "name": "p",
        "mode": "StsToken",
        "access_key_id": "FAKEkeyid",
        "access_key_secret": "goodsecret",
        "sts_token": "x" + MARKER + bad + "x",
    }
    path = tmp_path / "config.json"
    path.write_text(json.dumps({"profiles": [entry]}))
    imported = read_aliyun_config(path)
    assert imported.profiles == ()
    ((name, reason),) = imported.skipped
    assert name == "p"
    assert "sts_token" in reason
    assert MARKER not in reason


# --- the seen case, end to end -----------------------------------------------------------------


def test_a_token_with_windows_line_endings_fails_once_as_a_configuration_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Seen: ``Illegal header value b'...\\r\\n'`` printed and the request retried 4 times."""
    from asrtui.__main__ import main

    token = MARKER + "\r\n"
    program = (
        "import json; print(json.dumps({'mode': 'StsToken', 'access_key_id': 'k', "
        f"'access_key_secret': 's', 'sts_token': {token!r}}}))"
    )
    command = f'{sys.executable} -c "{program}"'
    store = ProfileStore()
    store.add(Profile("ext", credential_command=command, endpoint="http://127.0.0.1:9"))
    code = main(["--log-level", "debug", "--profile", "ext", "tasks", "--format", "json"])
    out, err = capsys.readouterr()
    assert code == 2
    assert "sts_token" in err
    assert "credential command" in err
    assert "ends with a carriage return (CR) and a line feed (LF)" in err
    assert MARKER not in out + err
    assert "Illegal header" not in err
    assert "retrying" not in err
    from asrtui import logs

    log_text = (logs.log_dir() / logs.LOG_FILE_NAME).read_text()
    assert MARKER not in log_text
    assert "retrying" not in log_text


# --- if a bad value reaches the client anyway ---------------------------------------------------


@pytest.mark.parametrize("bad", ["\r\n", "\n", "\r", "\x00"])
async def test_the_client_neither_retries_nor_shows_an_illegal_header_value(bad: str) -> None:
    """Defence in depth: credentials that skipped every check, over a real socket (h11)."""
    pytest.importorskip("uvicorn")
    from asrtui.emulator.server import running_server

    sleeps: list[float] = []

    async def no_sleep(seconds: float) -> None:
        sleeps.append(seconds)

    creds = Credentials(DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET, MARKER + bad)
    with running_server(build_emulator(seed=3, tasks=1)) as url:
        client = LiveClient(
            lambda: creds, url, limiter=WindowLimiter(20), sleep=no_sleep, profile="p"
        )
        async with client:
            with pytest.raises(CredentialsError) as caught:
                await client.list_tasks()
    assert sleeps == []
    error = caught.value
    assert MARKER not in f"{error} {error!r} {error.hint}"
    assert "profile 'p'" in error.hint


@pytest.mark.parametrize("bad", SEEN)
def test_the_console_form_refuses_them_with_the_field_named(bad: str) -> None:
    """What the console's profile form saves goes through the same check (a pasted ESC, a ``“``)."""
    from asrtui.profiles.entry import ProfileEntry, profile_from_entry

    values = ProfileEntry(
        name="p", access_key_id="FAKEkeyid", secret="x" + MARKER + bad + "x",
        token="", command="", region="cn-shanghai", endpoint="", signature="v3",
        rate_limit="20", refresh="5", read_only=False,
    )  # fmt: skip
    with pytest.raises(CredentialsError) as caught:
        profile_from_entry(values, None)
    assert_refused(caught.value, "access_key_secret", "profile 'p'")


#: Credentials URIs either side of the http(s)-with-a-host rule (none has a query or password).
_URIS = [
    ("http://127.0.0.1:8001/c", True),
    ("https://creds.example/c", True),
    ("HTTP://creds.example/c", True),
    ("ftp://creds.example/c", False),
    ("http:///c", False),
    ("http://creds.example:99999/c", False),
    ("http://creds.example:port/c", False),
    ("http://[::1/c", False),
    ("creds.example/c", False),
    ("", False),
]


@pytest.mark.parametrize(("uri", "good"), _URIS)
def test_credentials_uri_rule_is_the_same_for_profile_and_provider(uri: str, good: bool) -> None:
    """A stored ``credentials_uri`` and a provider's URI pass the same check (one helper)."""
    from asrtui.credentials.uri import UriProvider
    from asrtui.credentials.value import http_uri_parts
    from asrtui.errors import ConfigError
    from asrtui.profiles.modes import ModeSettings, check_mode

    assert (http_uri_parts(uri) is not None) is good
    settings = ModeSettings(mode="CredentialsURI", credentials_uri=uri)
    if good:
        check_mode(settings, profile="p", has_key=False, has_command=False)
        UriProvider(uri, where="profile 'p'")
    else:
        with pytest.raises(ConfigError):
            check_mode(settings, profile="p", has_key=False, has_command=False)
        with pytest.raises(CredentialsError):
            UriProvider(uri, where="profile 'p'")
