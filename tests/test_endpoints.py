"""Endpoint resolution: listed regions, unknown regions, and validated overrides."""

from __future__ import annotations

import pytest

from asrtui.endpoints import LISTED_REGIONS, resolve_endpoint
from asrtui.errors import ConfigError


@pytest.mark.parametrize("region", ["cn-shanghai", "ap-southeast-1", "eu-central-1", "us-west-1"])
def test_listed_regions_use_the_central_endpoint(region: str) -> None:
    assert resolve_endpoint(region, None) == "https://live.aliyuncs.com"


def test_default_region_when_none_or_empty() -> None:
    assert resolve_endpoint(None, None) == "https://live.aliyuncs.com"
    assert resolve_endpoint("  ", "") == "https://live.aliyuncs.com"


def test_unknown_region_falls_back_to_regional_host() -> None:
    assert "xx-north-9" not in LISTED_REGIONS
    assert resolve_endpoint("xx-north-9", None) == "https://live.xx-north-9.aliyuncs.com"


@pytest.mark.parametrize("region", ["cn shanghai", "a/b", "-cn", "CN_SHANGHAI", "x.y"])
def test_region_that_cannot_be_a_host_label_is_refused(region: str) -> None:
    with pytest.raises(ConfigError, match="region"):
        resolve_endpoint(region, None)


@pytest.mark.parametrize(
    ("override", "expected"),
    [
        ("http://127.0.0.1:8080", "http://127.0.0.1:8080"),
        ("http://127.0.0.1:8080/", "http://127.0.0.1:8080"),
        ("https://live.example.com", "https://live.example.com"),
        ("HTTPS://Live.Example.com:8443", "https://live.example.com:8443"),
        ("http://[::1]:8080", "http://[::1]:8080"),
    ],
)
def test_override_wins_and_is_normalised(override: str, expected: str) -> None:
    assert resolve_endpoint("cn-shanghai", override) == expected
    assert resolve_endpoint("not a region", override) == expected


@pytest.mark.parametrize(
    "override",
    [
        "ftp://example.com",
        "file:///etc/passwd",
        "http://",
        "https://:8080",
        "http://example.com:99999",
        "http://example.com/path",
        "http://example.com/?q=1",
        "http://exa mple.com",
    ],
)
def test_bad_override_is_a_config_error(override: str) -> None:
    with pytest.raises(ConfigError) as info:
        resolve_endpoint(None, override)
    assert "endpoint" in str(info.value).lower()
    assert info.value.exit_code == 2


def test_user_info_is_refused_without_echoing_the_password() -> None:
    with pytest.raises(ConfigError) as info:
        resolve_endpoint(None, "https://user:hunter2@live.example.com")
    assert "hunter2" not in str(info.value)


@pytest.mark.parametrize(
    ("override", "says"),
    [
        ("http://127.0.0.1:8080\n", "whitespace"),
        (" https://live.aliyuncs.com", "whitespace"),
        ("https://live.aliyuncs.com\t", "whitespace"),
        ("live\u00a0aliyuncs.com", "whitespace"),
        ("\x08", "a control or invisible character"),
        ("http://127.0.0.1:8080\x1b[2J", "a control or invisible character"),
        ("https://live\u202e.aliyuncs.com", "a control or invisible character"),
        ("https://live.aliyuncs\u200b.com", "a control or invisible character"),
    ],
)
def test_whitespace_or_a_control_character_anywhere_is_refused_by_name(
    override: str, says: str
) -> None:
    """URL parsers drop some of these silently: the host reached would not be the one shown."""
    with pytest.raises(ConfigError) as info:
        resolve_endpoint(None, override)
    assert info.value.exit_code == 2
    assert info.value.message == f"Invalid endpoint {override!r}: it contains {says}"
    assert "--endpoint" in info.value.hint
    assert str(info.value).isprintable()  # quoted with escapes: one line, nothing executed


def test_user_info_is_refused_before_odd_characters_are_named() -> None:
    with pytest.raises(ConfigError) as info:
        resolve_endpoint(None, "https://user:hun\nter2@live.example.com")
    assert "hun" not in str(info.value)


@pytest.mark.parametrize(
    ("region", "says"), [("cn shanghai", "whitespace"), ("cn-\x1b", "a control")]
)
def test_a_region_with_odd_characters_says_which(region: str, says: str) -> None:
    with pytest.raises(ConfigError) as info:
        resolve_endpoint(region, None)
    assert f": it contains {says}" in info.value.message
    assert "--region" in info.value.hint
    assert str(info.value).isprintable()


@pytest.mark.parametrize(
    ("override", "authority"),
    [
        ("127.0.0.1:8080", "127.0.0.1:8080"),
        ("localhost", "localhost"),
        ("localhost:9000", "localhost:9000"),
        ("host:8080/path", "host:8080"),
        ("live.ap-southeast-1.aliyuncs.com", "live.ap-southeast-1.aliyuncs.com"),
        ("[::1]:8080", "[::1]:8080"),
        ("emulator", "emulator"),
    ],
)
def test_an_endpoint_without_a_scheme_is_a_usage_error_suggesting_both(
    override: str, authority: str
) -> None:
    """Not taken as HTTPS: ``127.0.0.1:8080`` then failed as a TLS error, blaming certificates."""
    with pytest.raises(ConfigError) as info:
        resolve_endpoint(None, override)
    error = info.value
    assert error.exit_code == 2
    assert error.message == f"Endpoint {override!r} has no scheme"
    assert f"http://{authority} " in error.hint
    assert f"https://{authority} " in error.hint
    assert "certificate" not in str(error).lower()


@pytest.mark.parametrize("override", [":8080", "/path", "user:pw@host:1", "host name"])
def test_a_scheme_less_endpoint_that_is_wrong_otherwise_says_so(override: str) -> None:
    with pytest.raises(ConfigError) as info:
        resolve_endpoint(None, override)
    assert "pw" not in str(info.value)
    assert "has no scheme" not in info.value.message


def test_the_command_line_refuses_a_scheme_less_endpoint_with_exit_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from asrtui.__main__ import main

    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_ID", "FAKEx")
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "s3cret")
    assert main(["tasks", "--endpoint", "127.0.0.1:8080"]) == 2
    err = capsys.readouterr().err
    assert "has no scheme" in err
    assert "http://127.0.0.1:8080" in err
    assert "TLS handshake" not in err


async def test_https_to_a_plain_http_server_says_so_not_certificates() -> None:
    """The other half of a wrong scheme: https:// to the emulator blamed the CA certificates."""
    pytest.importorskip("uvicorn")
    from asrtui.client import LiveClient
    from asrtui.credentials import Credentials
    from asrtui.emulator import DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET, build_emulator
    from asrtui.emulator.server import running_server
    from asrtui.errors import TlsError

    with running_server(build_emulator()) as url:
        wrong = url.replace("http://", "https://")
        client = LiveClient(lambda: Credentials(DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET), wrong)
        async with client:
            with pytest.raises(TlsError) as info:
                await client.list_tasks()
    error = info.value
    assert "does not speak TLS" in error.message
    assert url in error.hint
    assert "CA certificates" not in str(error)
