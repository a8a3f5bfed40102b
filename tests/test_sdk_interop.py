"""The official Python SDK against the emulator on a real loopback socket (V3 and RPC v2).

If the emulator and the SDK agree, the emulator's signature checks and wire format are the
service's, not just our client's echo.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from alibabacloud_live20161101 import models as live_models
from alibabacloud_live20161101.client import Client
from alibabacloud_tea_openapi.exceptions import ClientException
from alibabacloud_tea_openapi.models import Config

from asrtui.emulator import EmulatorApp, build_emulator
from asrtui.emulator.server import running_server

KEY_ID = "sdk-key"
SECRET = "sdk-secret"
STS_KEY_ID = "STS.sdk-key"
STS_SECRET = "sdk-sts-secret"
STS_TOKEN = "sdk-sts-token"
ALGORITHMS = [None, "v2"]


@pytest.fixture(scope="module")
def emulator() -> Iterator[tuple[EmulatorApp, str]]:
    app = build_emulator(
        seed=21,
        tasks=5,
        credentials={KEY_ID: SECRET, STS_KEY_ID: (STS_SECRET, STS_TOKEN)},
        limit=1000,
    )
    with running_server(app) as url:
        yield app, url.removeprefix("http://")


def _client(
    endpoint: str,
    algorithm: str | None,
    *,
    key_id: str = KEY_ID,
    secret: str = SECRET,
    token: str | None = None,
) -> Client:
    options: dict[str, str] = {}
    if algorithm is not None:
        options["signature_algorithm"] = algorithm
    if token is not None:
        options["security_token"] = token
    return Client(
        Config(
            access_key_id=key_id,
            access_key_secret=secret,
            endpoint=endpoint,
            protocol="http",
            **options,
        )
    )


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_query_returns_the_tasks(emulator: tuple[EmulatorApp, str], algorithm: str | None) -> None:
    app, endpoint = emulator
    response = _client(endpoint, algorithm).query_rtc_asr_tasks(
        live_models.QueryRtcAsrTasksRequest(region_id="cn-shanghai")
    )
    assert response.status_code == 200
    assert response.body.ret_code == 2000
    assert response.body.description == "success"
    assert response.body.tasks == app.backend.query()
    assert response.body.request_id


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_sts_credentials(emulator: tuple[EmulatorApp, str], algorithm: str | None) -> None:
    _, endpoint = emulator
    client = _client(endpoint, algorithm, key_id=STS_KEY_ID, secret=STS_SECRET, token=STS_TOKEN)
    response = client.query_rtc_asr_tasks(live_models.QueryRtcAsrTasksRequest())
    assert response.body.ret_code == 2000


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_wrong_secret_is_rejected(emulator: tuple[EmulatorApp, str], algorithm: str | None) -> None:
    _, endpoint = emulator
    client = _client(endpoint, algorithm, secret="not-the-secret")
    with pytest.raises(ClientException) as caught:
        client.query_rtc_asr_tasks(live_models.QueryRtcAsrTasksRequest())
    assert caught.value.code == "SignatureDoesNotMatch"
    assert caught.value.status_code == 400


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_stop_then_delete(emulator: tuple[EmulatorApp, str], algorithm: str | None) -> None:
    app, endpoint = emulator
    client = _client(endpoint, algorithm)
    created = client.create_rtc_asr_task(
        live_models.CreateRtcAsrTaskRequest(
            mode="live",
            language="en",
            callback_url="default",
            stream_url="rtmp://push.example.com/app/stream",
            report_interval=200,
            translate_enabled=True,
            target_languages="cn",
        )
    )
    task_id = created.body.task_id
    assert created.body.ret_code == 2000
    assert task_id in (app.backend.query() or {})

    stopped = client.stop_rtc_asr_task(live_models.StopRtcAsrTaskRequest(task_id=task_id))
    assert stopped.body.ret_code == 2000
    assert task_id not in (app.backend.query() or {})

    deleted = client.delete_rtc_asr_task(live_models.DeleteRtcAsrTaskRequest(task_id=task_id))
    assert deleted.body.ret_code == 2000
    assert app.backend.query(task_id) is None

    with pytest.raises(ClientException) as caught:
        client.delete_rtc_asr_task(live_models.DeleteRtcAsrTaskRequest(task_id=task_id))
    assert caught.value.code == "ConfigNotFound"


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_second_channel_reaches_the_sdk_as_a_retcode(
    emulator: tuple[EmulatorApp, str], algorithm: str | None
) -> None:
    _, endpoint = emulator
    response = _client(endpoint, algorithm).create_rtc_asr_task(
        live_models.CreateRtcAsrTaskRequest(mode="hls", language="en", callback_url="default")
    )
    assert response.status_code == 200
    assert response.body.ret_code != 2000
    assert "Mode" in response.body.description
