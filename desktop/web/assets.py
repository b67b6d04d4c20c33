"""Static files for the wire: precompressed copies, cache lifetimes, and the built widget.

``static/build-widget.mjs`` and ``static/copy-vendor.mjs`` write ``FILE.br`` and ``FILE.gz``
beside what they build (set-up, ``make``); ``CompressedStaticFiles`` sends the copy the browser
accepts, with the original's type. Files under ``static/dist/`` have versioned names (a folder
named by the sources' digest) and are cached for good; everything else is revalidated (ETag) so a deploy is seen at once.

``WidgetBuild`` says whether ``static/dist`` was built from the widget sources on disk now: a
stale or missing build (an edit after ``make``, a fresh clone before it) is never served; the
plain modules are, with a warning, so what runs is always the code in the tree.
"""

from __future__ import annotations

import hashlib
import json
import logging
import mimetypes
import os
from pathlib import Path

from starlette.datastructures import Headers
from starlette.responses import FileResponse, Response
from starlette.staticfiles import NotModifiedResponse, StaticFiles
from starlette.types import Scope

__all__ = ["STATIC_DIR", "find_static_dir", "CompressedStaticFiles", "WidgetBuild", "IMMUTABLE", "REVALIDATE"]

log = logging.getLogger(__name__)

IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"
#: (Content-Encoding, suffix of the precompressed copy), best first.
ENCODINGS = (("br", ".br"), ("gzip", ".gz"))


def accepted_encodings(header: str) -> set[str]:
    """The codings an Accept-Encoding header allows (q=0 refuses one)."""
    codings = set()
    for part in header.lower().split(","):
        name, _, params = part.strip().partition(";")
        q = params.strip()
        if q.startswith("q=") and q[2:].strip() in ("0", "0.0", "0.00", "0.000"):
            continue
        if name.strip():
            codings.add(name.strip())
    return codings


class CompressedStaticFiles(StaticFiles):
    """Starlette's StaticFiles (safe paths, ETags, ranges) sending precompressed copies."""

    def file_response(self, full_path, stat_result, scope, status_code=200) -> Response:
        relative = os.path.relpath(full_path, self.directory) if self.directory else ""
        hashed = relative.startswith("dist" + os.sep) and relative != os.path.join("dist", "manifest.json")
        return self.send(full_path, scope, stat_result=stat_result, cache_control=IMMUTABLE if hashed else REVALIDATE)

    def send(self, path: str | os.PathLike, scope: Scope, *, cache_control: str,
             stat_result: os.stat_result | None = None) -> Response:
        """``path`` as the best precompressed copy the request accepts (or as it is); 304 when unchanged.

        A copy older than its original (the original edited since set-up) is ignored.
        """
        path = os.fspath(path)
        request = Headers(scope=scope)
        stat_result = stat_result or os.stat(path)
        media_type = mimetypes.guess_type(path)[0] or "application/octet-stream"
        if media_type in ("text/javascript", "application/javascript"):
            media_type = "text/javascript; charset=utf-8"
        headers = {"Cache-Control": cache_control}
        accepted = accepted_encodings(request.get("accept-encoding", ""))
        response = None
        for coding, suffix in ENCODINGS:
            try:
                copy = os.stat(path + suffix)
            except OSError:
                continue
            if copy.st_mtime_ns < stat_result.st_mtime_ns:
                continue
            headers["Vary"] = "Accept-Encoding"  # (without copies, GZipMiddleware adds it when it compresses)
            if coding in accepted:
                response = FileResponse(path + suffix, stat_result=copy, media_type=media_type,
                                        headers={**headers, "Content-Encoding": coding})
                break
        if response is None:
            response = FileResponse(path, stat_result=stat_result, media_type=media_type, headers=headers)
        if self.is_not_modified(response.headers, request):
            return NotModifiedResponse(response.headers)
        return response


def find_static_dir() -> Path:
    """The browser files: inside the installed package (the wheel copies ``static/`` into
    ``desktop/static``, setup.py), else the checkout's ``static/`` beside the packages."""
    package = Path(__file__).resolve().parents[1]
    installed = package / "static"
    return installed if installed.is_dir() else package.parent / "static"


STATIC_DIR = find_static_dir()


class WidgetBuild:
    """The built widget under ``static/dist``, used only while it matches the sources."""

    SOURCE_DIRS = ("widget", "common")  # as static/build-widget.mjs hashes them

    def __init__(self, static_dir: Path):
        self.static_dir = static_dir
        self.dist = static_dir / "dist"
        self._seen: tuple | None = None  # (path, mtime, size) of the sources and the manifest last checked
        self._fresh = False

    def _sources(self) -> list[Path]:
        return [path for directory in self.SOURCE_DIRS
                for path in sorted((self.static_dir / directory).glob("*.js"), key=lambda p: p.name)]

    def _digest(self, sources: list[Path]) -> str:
        digest = hashlib.sha256()
        for path in sources:
            for part in (f"{path.parent.name}/{path.name}\0".encode(), path.read_bytes(), b"\0"):
                digest.update(part)
        return digest.hexdigest()

    def loader(self) -> Path | None:
        """The built loader (``/widget.js``), or None when there is no fresh build."""
        sources = self._sources()
        manifest_path = self.dist / "manifest.json"
        seen = tuple((str(path), path.stat().st_mtime_ns, path.stat().st_size)
                     for path in (*sources, manifest_path) if path.exists())
        if seen != self._seen:  # re-hash only when a source or the build changed on disk
            try:
                manifest = json.loads(manifest_path.read_text())
                self._fresh = manifest.get("sources") == self._digest(sources)
            except (OSError, ValueError):
                self._fresh = False
            self._seen = seen
            if not self._fresh:
                log.warning("static/dist is missing or older than the widget's sources: serving the plain "
                            "modules (run `make` or `node static/build-widget.mjs` for the built widget)")
        return self.dist / "widget.js" if self._fresh else None
