"""The credential modes shared by the profile form and ``asrtui profile add``, as a table."""

from __future__ import annotations

from dataclasses import replace
from itertools import combinations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from asrtui.errors import ConfigError
from asrtui.profiles.entry import (
    ACCESS_KEY,
    COMMAND,
    CREDENTIAL_MODES,
    TEMPORARY,
    CredentialMode,
    ProfileEntry,
    mode_given,
    profile_from_entry,
)

FIELDS = [field.key for mode in CREDENTIAL_MODES for field in mode.fields]
BLANK = ProfileEntry(
    name="p", access_key_id="", secret="", token="", command="", region="cn-shanghai",
    endpoint="", signature="v3", rate_limit="20", refresh="5", read_only=False,
)  # fmt: skip
FILLED = {
    "access_key_id": "FAKEkeyid",
    "secret": "s3cret-value",
    "token": "tok",
    "command": "x",
    "mode": "EcsRamRole",
}


def together(modes: set[CredentialMode]) -> bool:
    """Whether these modes may be given together: a role assumed with the AccessKey."""
    return len(modes) == 2 and ACCESS_KEY in modes and any(m.with_key for m in modes)


def mode_of(key: str) -> CredentialMode:
    return next(mode for mode in CREDENTIAL_MODES if key in {f.key for f in mode.fields})


def test_every_field_of_the_entry_belongs_to_exactly_one_mode() -> None:
    assert len(FIELDS) == len(set(FIELDS))
    assert set(FIELDS) <= set(ProfileEntry.__dataclass_fields__)


@given(st.sets(st.sampled_from(FIELDS)))
def test_fields_of_two_modes_are_refused_in_both_wordings(given_fields: set[str]) -> None:
    modes = {mode_of(key) for key in given_fields}
    for options in (True, False):
        if together(modes):
            assert mode_given(given_fields, options=options) is TEMPORARY
        elif len(modes) > 1:
            with pytest.raises(ConfigError):
                mode_given(given_fields, options=options)
        else:
            assert mode_given(given_fields, options=options) == next(iter(modes), None)


@pytest.mark.parametrize(
    ("first", "second"),
    [pair for pair in combinations(CREDENTIAL_MODES, 2) if not together(set(pair))],
)
def test_each_pair_of_modes_is_refused_by_the_form(
    first: CredentialMode, second: CredentialMode
) -> None:
    values = replace(
        BLANK, **{first.fields[0].key: FILLED[first.fields[0].key]},
        **{second.fields[0].key: FILLED[second.fields[0].key]},
    )  # fmt: skip
    with pytest.raises(ConfigError, match="not both"):
        profile_from_entry(values, None)


def test_the_command_line_wording_names_the_options() -> None:
    with pytest.raises(ConfigError) as caught:
        mode_given({"command", "secret"}, options=True)
    assert caught.value.message == "--credential-command cannot be combined with an AccessKey"
    assert caught.value.hint == "use either --credential-command or --access-key-id"


def test_no_credentials_names_every_mode() -> None:
    with pytest.raises(ConfigError) as caught:
        profile_from_entry(BLANK, None)
    assert caught.value.hint == (
        "give an AccessKey id and secret, or a credential command, or a mode (RamRoleArn, "
        "ChainableRamRoleArn, EcsRamRole, OIDC, CredentialsURI, AliyunProfile) and its settings"
    )


def test_a_role_is_assumed_with_the_access_key_given_beside_it() -> None:
    values = replace(
        BLANK,
        access_key_id="FAKEkeyid",
        secret="s3cret-value",
        mode="RamRoleArn",
        ram_role_arn="acs:ram::1:role/asr",
    )
    profile = profile_from_entry(values, None)
    assert profile.credentials is not None
    assert profile.mode is not None
    assert profile.mode.mode == "RamRoleArn"
    with pytest.raises(ConfigError, match="takes no stored AccessKey"):
        profile_from_entry(replace(values, mode="EcsRamRole", ram_role_arn=""), None)


def test_each_mode_alone_makes_its_profile() -> None:
    key = profile_from_entry(replace(BLANK, access_key_id="FAKEkeyid", secret="s3cret-value"), None)
    assert key.credentials is not None
    assert key.credential_command is None
    command = profile_from_entry(replace(BLANK, command="/bin/creds"), None)
    assert command.credential_command == "/bin/creds"
    assert command.credentials is None
    assert mode_given({"access_key_id"}, options=True) is ACCESS_KEY
    assert mode_given({"command"}, options=False) is COMMAND


def test_a_credential_error_comes_before_a_number_error() -> None:
    with pytest.raises(ConfigError, match="No credentials"):
        profile_from_entry(replace(BLANK, rate_limit="ten"), None)
