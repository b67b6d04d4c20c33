"""The document library agents push to customers: images (PNG, JPEG, WebP) and PDFs.

The type is decided by the file's first bytes, never by its name or the
browser's Content-Type; SVG is refused (it can carry scripts); everything else
too. Files live on disk under ``<var_dir>/documents/`` (one ``<id>.<ext>`` and a
``<id>.json`` of metadata each); the id is derived from the content, so the
same file uploaded twice is one document.

Customers download through a signed link that names the document and the
visitor and expires (:class:`LinkSigner`); agents with their session cookie.

Exceptions: :class:`DocumentError` (base, with an HTTP ``status`` and a
``code``), :class:`UnsupportedDocument` (also ``ValueError``, 415),
:class:`DocumentTooLarge` (also ``ValueError``, 413).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import re
import time
from pathlib import Path

from itsdangerous import BadSignature, URLSafeTimedSerializer

__all__ = [
    "LINK_MAX_AGE",
    "MAX_DOCUMENT_BYTES",
    "Document",
    "DocumentError",
    "DocumentLibrary",
    "DocumentTooLarge",
    "LinkSigner",
    "UnsupportedDocument",
    "sniff",
]

MAX_DOCUMENT_BYTES = 10 * 1024 * 1024  # bytes
LINK_MAX_AGE = 3600                    # seconds a customer's download link works


class DocumentError(Exception):
    status = 400
    code = "bad_document"


class UnsupportedDocument(DocumentError, ValueError):
    status = 415
    code = "unsupported_type"


class DocumentTooLarge(DocumentError, ValueError):
    status = 413
    code = "too_large"


#: kind -> (media type, file extension)
KINDS = {
    "pdf": ("application/pdf", "pdf"),
    "png": ("image/png", "png"),
    "jpeg": ("image/jpeg", "jpg"),
    "webp": ("image/webp", "webp"),
}


def sniff(data: bytes) -> str:
    """The kind of a document from its first bytes; raises UnsupportedDocument."""
    if data.startswith(b"%PDF-"):
        return "pdf"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    head = data[:1024].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if head.startswith(b"<svg") or (head.startswith(b"<?xml") and b"<svg" in data[:4096].lower()):
        raise UnsupportedDocument("SVG is refused: it can carry scripts. Export it as PNG or PDF.")
    raise UnsupportedDocument("only PNG, JPEG, WebP images and PDF documents can be uploaded "
                              "(the file's content is none of these, whatever its name says)")


@dataclasses.dataclass(frozen=True, kw_only=True)
class Document:
    id: str
    name: str
    kind: str
    size: int
    uploaded_by: str
    uploaded_at: float

    @property
    def media_type(self) -> str:
        return KINDS[self.kind][0]

    def public(self) -> dict:
        return {"id": self.id, "name": self.name, "kind": self.kind, "size": self.size,
                "media_type": self.media_type, "uploaded_at": self.uploaded_at}


_SAFE_NAME = re.compile(r"[^\w .()+-]+")


def clean_name(name: str, kind: str) -> str:
    """A display name without path parts or control characters, ending in the real extension."""
    base = _SAFE_NAME.sub("_", os.path.basename(name.replace("\\", "/"))).strip(" .")[:120] or "document"
    stem = base.rsplit(".", 1)[0] if "." in base else base
    return f"{stem}.{KINDS[kind][1]}"


class DocumentLibrary:
    """Documents on disk under ``root``. Blocking file I/O: call from a worker thread."""

    def __init__(self, root: Path, *, max_bytes: int = MAX_DOCUMENT_BYTES):
        self.root = Path(root)
        self.max_bytes = max_bytes

    def add(self, data: bytes, *, name: str, uploaded_by: str, now: float | None = None) -> Document:
        """Check and store ``data``; raises DocumentTooLarge, UnsupportedDocument."""
        if len(data) > self.max_bytes:
            raise DocumentTooLarge(f"the file has {len(data)} bytes; at most {self.max_bytes} are accepted")
        if not data:
            raise UnsupportedDocument("the file is empty")
        kind = sniff(data)
        digest = hashlib.sha256(data).hexdigest()[:32]
        document = Document(id=digest, name=clean_name(name, kind), kind=kind, size=len(data),
                            uploaded_by=uploaded_by, uploaded_at=now if now is not None else time.time())
        self.root.mkdir(parents=True, exist_ok=True)
        path = self._file(document)
        if not path.exists():
            _write_atomically(path, data)
        _write_atomically(self.root / f"{digest}.json", json.dumps(dataclasses.asdict(document)).encode())
        return document

    def get(self, document_id: str) -> Document | None:
        if not re.fullmatch(r"[0-9a-f]{32}", document_id or ""):
            return None
        try:
            data = json.loads((self.root / f"{document_id}.json").read_text())
        except (OSError, ValueError):
            return None
        return Document(**data)

    def path(self, document: Document) -> Path:
        return self._file(document)

    def list(self) -> list[Document]:
        if not self.root.exists():
            return []
        documents = [self.get(path.stem) for path in self.root.glob("*.json")]
        return sorted((d for d in documents if d is not None), key=lambda d: d.uploaded_at, reverse=True)

    def _file(self, document: Document) -> Path:
        return self.root / f"{document.id}.{KINDS[document.kind][1]}"


def _write_atomically(path: Path, data: bytes) -> None:
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_bytes(data)
    os.replace(temporary, path)


class LinkSigner:
    """Signed, expiring download links for customers: a link names one document and one visitor."""

    def __init__(self, secret_key: str, *, max_age: float = LINK_MAX_AGE):
        self._serializer = URLSafeTimedSerializer(secret_key, salt="otodesk.document")
        self.max_age = max_age

    def url(self, document_id: str, visitor_id: str) -> str:
        token = self._serializer.dumps({"d": document_id, "v": visitor_id})
        return f"/documents/{document_id}?t={token}"

    def check(self, document_id: str, token: str | None) -> bool:
        if not token or len(token) > 512:
            return False
        try:
            data = self._serializer.loads(token, max_age=self.max_age)
        except BadSignature:
            return False
        return isinstance(data, dict) and data.get("d") == document_id
