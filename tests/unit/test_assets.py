"""Static files for the wire (desktop/web/assets.py): precompressed copies and the widget build."""

from __future__ import annotations

import gzip
import json
import os

from starlette.applications import Starlette
from starlette.routing import Mount
from starlette.testclient import TestClient

from desktop.web.assets import CompressedStaticFiles, WidgetBuild, accepted_encodings


def test_accepted_encodings():
    assert accepted_encodings("gzip, deflate, br") == {"gzip", "deflate", "br"}
    assert accepted_encodings("br;q=0, gzip;q=0.5") == {"gzip"}
    assert accepted_encodings("") == set()


def test_the_copy_the_browser_accepts_and_never_a_stale_one(tmp_path):
    (tmp_path / "dist").mkdir()
    source = tmp_path / "dist" / "w.ABC.js"
    source.write_text("let x = 1;\n" * 100)
    (tmp_path / "dist" / "w.ABC.js.gz").write_bytes(gzip.compress(source.read_bytes()))
    (tmp_path / "dist" / "w.ABC.js.br").write_bytes(b"brotli bytes")
    client = TestClient(Starlette(routes=[Mount("/static", CompressedStaticFiles(directory=tmp_path))]))

    br = client.get("/static/dist/w.ABC.js", headers={"Accept-Encoding": "gzip, br"})
    assert br.headers["content-encoding"] == "br" and br.headers["vary"] == "Accept-Encoding"
    assert br.headers["content-type"] == "text/javascript; charset=utf-8"
    assert br.headers["cache-control"] == "public, max-age=31536000, immutable"
    gz = client.get("/static/dist/w.ABC.js", headers={"Accept-Encoding": "gzip"})
    assert gz.headers["content-encoding"] == "gzip" and gz.text == source.read_text()
    plain = client.get("/static/dist/w.ABC.js", headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers and plain.text == source.read_text()

    # Edited after the copies were made: the copies are ignored.
    later = source.stat().st_mtime_ns + 10**9
    os.utime(source, ns=(later, later))
    fresh = client.get("/static/dist/w.ABC.js", headers={"Accept-Encoding": "gzip, br"})
    assert "content-encoding" not in fresh.headers and fresh.text == source.read_text()


def test_files_outside_dist_are_revalidated(tmp_path):
    (tmp_path / "desk.js").write_text("export {};\n")
    client = TestClient(Starlette(routes=[Mount("/static", CompressedStaticFiles(directory=tmp_path))]))
    assert client.get("/static/desk.js").headers["cache-control"] == "no-cache"


def test_a_build_is_used_only_while_it_matches_the_sources(tmp_path):
    for directory in WidgetBuild.SOURCE_DIRS:
        (tmp_path / directory).mkdir()
        (tmp_path / directory / "a.js").write_text(f"// {directory}\n")
    build = WidgetBuild(tmp_path)
    assert build.loader() is None  # never built
    (tmp_path / "dist").mkdir()
    (tmp_path / "dist" / "manifest.json").write_text(json.dumps({"sources": build._digest(build._sources())}))
    assert build.loader() == tmp_path / "dist" / "widget.js"
    (tmp_path / "widget" / "a.js").write_text("// edited since the build\n")
    assert build.loader() is None
