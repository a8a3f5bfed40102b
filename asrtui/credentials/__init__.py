"""Credentials: the value, the providers that hand it out, and the chain that picks one.

Modules, one concern each, from the bottom up (the layers contract in ``pyproject.toml``):

- `asrtui.credentials.value`: `Credentials`, masking and the rules a value must follow (no
  I/O; the signer, the profile store and the console use only this);
- `asrtui.credentials.provider`: the async `CredentialsProvider` protocol, static providers,
  and the log-secret registration every real client goes through;
- `asrtui.credentials.refresh`: temporary credentials refreshed ahead of expiry in the
  background, single flight, the last good kept;
- `asrtui.credentials.external`: a credential command (aliyun CLI ``External``);
- `asrtui.credentials.chain`: which source wins (options, environment, profiles).

This package module re-exports the value only, so that importing `Credentials` never loads
the providers' network stack.
"""

from __future__ import annotations

from asrtui.credentials.value import (
    Credentials,
    check_credentials,
    command_program,
    credential_value_problem,
    mask_secret,
)

__all__ = [
    "Credentials",
    "check_credentials",
    "command_program",
    "credential_value_problem",
    "mask_secret",
]
