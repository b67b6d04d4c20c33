"""Requests generated from /api/openapi.json (schemathesis) against the app, in-process:
whatever they send, the API answers with no 5xx. SQLite; the same handlers run on PostgreSQL
in test_ccr_api.py."""

from __future__ import annotations

import collections
import functools

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from starlette.testclient import TestClient

from desktop.app import create_app
from desktop.settings import Settings
from desktop.web.api.openapi import openapi_document

schema = schemathesis.openapi.from_dict(openapi_document())
#: Every operation, each a test of its own id (``schema.parametrize()`` gives them all one
#: node id, which pytest-xdist can't tell apart: most were never reported).
OPERATIONS = [result.ok() for result in schema.get_all_operations()]
#: Status codes seen, so the last test can tell the fuzzing got past authentication.
SEEN: collections.Counter[int] = collections.Counter()
_REQUEST_KEYS = ("method", "url", "params", "headers", "json", "content")


@pytest.fixture(scope="module")
def api(tmp_path_factory):
    var = tmp_path_factory.mktemp("schemathesis")
    app = create_app(Settings(var_dir=var, secret_key="fuzz", process_id="fuzz"))
    with TestClient(app, raise_server_exceptions=False) as client:
        repo = app.state.repo
        _record, key = client.portal.call(functools.partial(repo.create_api_key, name="schemathesis",
                                                                 scopes=("read", "write", "erase")))
        headers = {"Authorization": f"Bearer {key}"}
        # Something to find: a customer with an event.
        customer = client.post("/api/v1/customers", headers=headers,
                               json={"name": "Fuzz Target", "user_id": "fuzz-1"}).json()
        client.post(f"/api/v1/customers/{customer['id']}/events", headers=headers,
                    json={"kind": "note", "summary": "seed"})
        yield client, headers


def test_the_openapi_document_is_served(api) -> None:
    client, _headers = api
    assert client.get("/api/openapi.json").json() == openapi_document()


@pytest.mark.parametrize("mode", list(schemathesis.GenerationMode), ids=lambda mode: mode.value)
@pytest.mark.parametrize("operation", OPERATIONS, ids=lambda operation: operation.label)
def test_no_server_errors(operation, mode, api) -> None:
    client, headers = api

    @given(case=operation.as_strategy(mode))
    @settings(max_examples=5, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    def answers_without_a_server_error(case) -> None:
        kwargs = case.as_transport_kwargs(base_url="http://testserver", headers=headers)
        if "data" in kwargs:  # a raw body: httpx calls it content
            kwargs["content"] = kwargs.pop("data")
        response = client.request(**{k: v for k, v in kwargs.items() if k in _REQUEST_KEYS})
        SEEN[response.status_code] += 1
        assert response.status_code < 500, (
            f"{case.method} {case.formatted_path}: {response.status_code} {response.text[:300]}\n"
            f"{case.as_curl_command()}")

    answers_without_a_server_error()


def test_the_generated_requests_reached_the_handlers() -> None:
    if not SEEN:
        pytest.skip("run together with test_no_server_errors")
    assert SEEN[200] and SEEN[201] and SEEN[422], SEEN
