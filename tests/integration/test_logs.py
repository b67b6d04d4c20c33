"""OTODESK_LOG_FORMAT=json: one JSON object per line, uvicorn's access lines included, each
request's lines carrying the id the response's X-Request-Id names (or the one nginx sent)."""

from __future__ import annotations

import json

import httpx

from tests.helpers.server import running_server


def test_json_logs_carry_the_request_id(tmp_path):
    with running_server(tmp_path / "var", env={"OTODESK_LOG_FORMAT": "json"}, seed=False) as server:
        mine = httpx.get(f"{server.base_url}/healthz", headers={"X-Request-Id": "from-nginx-0001"})
        assert mine.headers["x-request-id"] == "from-nginx-0001"
        made = httpx.get(f"{server.base_url}/login").headers["x-request-id"]
        assert len(made) == 32 and made != "from-nginx-0001"
        bad = httpx.get(f"{server.base_url}/healthz", headers={"X-Request-Id": "x <script>alert(1)</script>"})
        assert "<" not in bad.headers["x-request-id"]  # not echoed: a fresh id instead
        # The widget's files, on every page of every site: logged with an id, not sent one.
        loader = httpx.get(f"{server.base_url}/widget.js", headers={"X-Request-Id": "widget-load-0001"})
        assert loader.status_code == 200 and "x-request-id" not in loader.headers
        log = server.log_path.read_text()  # all of it: server.log() is the tail, cut mid-line

    lines = [json.loads(line) for line in log.splitlines() if line.startswith("{")]
    assert lines and len(lines) == len([line for line in log.splitlines() if line.strip()])  # nothing else
    access = [entry for entry in lines if entry["logger"] == "uvicorn.access"]
    assert any(entry.get("request_id") == "from-nginx-0001" and "/healthz" in entry["message"] for entry in access)
    assert any(entry.get("request_id") == made and "/login" in entry["message"] for entry in access)
    assert any(entry.get("request_id") == "widget-load-0001" and "/widget.js" in entry["message"] for entry in access)
    assert all({"at", "level", "logger", "message"} <= set(entry) for entry in lines)
    # A fresh install's one-time link for the first admin is a JSON line too (nothing printed).
    assert any("/setup?token=" in entry["message"] for entry in lines if entry["level"] == "warning")
