"""The document library agents push to customers: images (PNG, JPEG, WebP) and PDFs.

The type is decided by the file's first bytes, never by its name or the
browser's Content-Type; SVG is refused (it can carry scripts); everything else
too. Files live on disk under ``<var_dir>/documents/`` (one ``<id>.<ext>`` and a
``<id>.json`` of metadata each); the id is derived from the content, so the
same file uploaded twice is one document.

A document uploaded for one customer (a contract during their call) belongs to
them: it lives under ``<var_dir>/documents/customers/<customer_id>/``, is listed
and pushed only for that customer, and is erased with them
(``desktop.contacts.privacy`` removes every file under ``var/`` whose path names the
customer). The rest is the site-wide library.

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
    #: The customer it belongs to; None for the site-wide library.
    customer_id: str | None = None

    @property
    def media_type(self) -> str:
        return KINDS[self.kind][0]

    def public(self) -> dict:
        return {"id": self.id, "name": self.name, "kind": self.kind, "size": self.size,
                "media_type": self.media_type, "uploaded_at": self.uploaded_at,
                "customer_id": self.customer_id}


_SAFE_NAME = re.compile(r"[^\w .()+-]+")
_SAFE_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


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

    def add(self, data: bytes, *, name: str, uploaded_by: str, now: float | None = None,
            customer_id: str | None = None) -> Document:
        """Check and store ``data`` (for ``customer_id`` only, if given); raises DocumentTooLarge,
        UnsupportedDocument, DocumentError (a customer id that can't name a folder)."""
        if len(data) > self.max_bytes:
            raise DocumentTooLarge(f"the file has {len(data)} bytes; at most {self.max_bytes} are accepted")
        if not data:
            raise UnsupportedDocument("the file is empty")
        kind = sniff(data)
        if customer_id is not None and not _SAFE_ID.fullmatch(customer_id):
            raise DocumentError("not a customer id")
        # A customer's copy of a library file is another document (erased with them, not with the library).
        seed = f"{customer_id}\0".encode() if customer_id else b""
        digest = hashlib.sha256(seed + data).hexdigest()[:32]
        document = Document(id=digest, name=clean_name(name, kind), kind=kind, size=len(data),
                            uploaded_by=uploaded_by, uploaded_at=now if now is not None else time.time(),
                            customer_id=customer_id)
        folder = self._folder(customer_id)
        folder.mkdir(parents=True, exist_ok=True)
        path = self._file(document)
        if not path.exists():
            _write_atomically(path, data)
        _write_atomically(folder / f"{digest}.json", json.dumps(dataclasses.asdict(document)).encode())
        return document

    def get(self, document_id: str) -> Document | None:
        if not re.fullmatch(r"[0-9a-f]{32}", document_id or ""):
            return None
        meta = self.root / f"{document_id}.json"
        if not meta.exists():  # a customer's document
            meta = next(iter((self.root / "customers").glob(f"*/{document_id}.json")), meta)
        try:
            data = json.loads(meta.read_text())
        except (OSError, ValueError):
            return None
        return Document(**data)

    def path(self, document: Document) -> Path:
        return self._file(document)

    def list(self, *, customer_id: str | None = None) -> list[Document]:
        """The site-wide library, and ``customer_id``'s own documents first if given."""
        folders = [self.root]
        if customer_id is not None and _SAFE_ID.fullmatch(customer_id):
            folders.insert(0, self._folder(customer_id))
        documents = []
        for folder in folders:
            for path in sorted(folder.glob("*.json")) if folder.is_dir() else ():
                try:
                    documents.append(Document(**json.loads(path.read_text())))
                except (OSError, ValueError, TypeError):
                    continue
        return sorted(documents, key=lambda d: (d.customer_id is None, -d.uploaded_at))

    def _folder(self, customer_id: str | None) -> Path:
        return self.root / "customers" / customer_id if customer_id else self.root

    def _file(self, document: Document) -> Path:
        return self._folder(document.customer_id) / f"{document.id}.{KINDS[document.kind][1]}"


def _write_atomically(path: Path, data: bytes) -> None:
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_bytes(data)
    os.replace(temporary, path)


class LinkSigner:
    """Signed, expiring download links for customers: a link names one document and one visitor."""

    def __init__(self, secret_key: str, *, max_age: float = LINK_MAX_AGE):
        self._serializer = URLSafeTimedSerializer(secret_key, salt="otodesk.document")
        self._pushes = URLSafeTimedSerializer(secret_key, salt="otodesk.document-push")
        self.max_age = max_age

    def url(self, document_id: str, visitor_id: str) -> str:
        token = self._serializer.dumps({"d": document_id, "v": visitor_id})
        return f"/documents/{document_id}?t={token}"

    def push_token(self, *, push_id: str, document_id: str, name: str, visitor_id: str, agent_id: str,
                   kind: str | None = None, callback_id: str | None = None) -> str:
        """What lets the customer's next page re-open a pushed document (``doc_resume``)."""
        return self._pushes.dumps({"p": push_id, "d": document_id, "n": name, "v": visitor_id, "a": agent_id,
                                   "k": kind, "c": callback_id})

    def check_push(self, token: str, visitor_id: str) -> dict | None:
        """The push a ``doc_resume`` token names, if it is valid and for ``visitor_id``."""
        try:
            data = self._pushes.loads(token, max_age=self.max_age)
        except BadSignature:
            return None
        return data if isinstance(data, dict) and data.get("v") == visitor_id else None

    def check(self, document_id: str, token: str | None) -> bool:
        if not token or len(token) > 512:
            return False
        try:
            data = self._serializer.loads(token, max_age=self.max_age)
        except BadSignature:
            return False
        return isinstance(data, dict) and data.get("d") == document_id
