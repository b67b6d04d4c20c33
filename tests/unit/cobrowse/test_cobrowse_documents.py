"""The document library without a server: type by content, size, names, signed links."""

from __future__ import annotations

import pytest

from desktop.cobrowse.documents import (
    DocumentLibrary,
    DocumentTooLarge,
    LinkSigner,
    UnsupportedDocument,
    clean_name,
    sniff,
)
from tests.helpers.pdfgen import pdf_with_pages

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 20


@pytest.mark.parametrize("data, kind", [
    (b"%PDF-1.7\n...", "pdf"), (PNG, "png"), (b"\xff\xd8\xff\xe0" + b"0" * 8, "jpeg"),
    (b"RIFF\x10\x00\x00\x00WEBPVP8 ", "webp"),
])
def test_type_is_read_from_the_content(data, kind):
    assert sniff(data) == kind


@pytest.mark.parametrize("data, words", [
    (b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>", "SVG"),
    (b'\xef\xbb\xbf<?xml version="1.0"?>\n<svg></svg>', "SVG"),
    (b"<html>not an image</html>", "only PNG"),
    (b"GIF89a....", "only PNG"),
])
def test_other_types_are_refused(data, words):
    with pytest.raises(UnsupportedDocument, match=words):
        sniff(data)


def test_names_lose_paths_and_get_the_real_extension():
    assert clean_name("../../etc/passwd.png", "pdf") == "passwd.pdf"
    assert clean_name("C:\\Users\\me\\plan<1>.jpeg", "png") == "plan_1_.png"
    assert clean_name("", "pdf") == "document.pdf"


def test_library_stores_checks_and_limits(tmp_path):
    library = DocumentLibrary(tmp_path / "docs", max_bytes=5000)
    pdf = pdf_with_pages(["one", "two"])
    document = library.add(pdf, name="contract.PDF", uploaded_by="a1", now=10)
    assert document.kind == "pdf" and document.name == "contract.pdf" and document.size == len(pdf)
    assert library.get(document.id) == document
    assert library.path(document).read_bytes() == pdf
    assert library.add(pdf, name="again.pdf", uploaded_by="a2", now=11).id == document.id
    assert [d.name for d in library.list()] == ["again.pdf"]
    assert library.get("../../secret") is None and library.get("0" * 32) is None
    with pytest.raises(DocumentTooLarge):
        library.add(pdf_with_pages(["big"], padding=6000), name="big.pdf", uploaded_by="a1")
    with pytest.raises(UnsupportedDocument):
        library.add(b"", name="empty.png", uploaded_by="a1")


def test_links_name_one_document_and_expire():
    links = LinkSigner("k" * 32)
    url = links.url("a" * 32, "visitor-1")
    token = url.split("?t=")[1]
    assert links.check("a" * 32, token)
    assert not links.check("b" * 32, token)
    assert not LinkSigner("other" * 8).check("a" * 32, token)
    assert not LinkSigner("k" * 32, max_age=-1).check("a" * 32, token)
    assert not links.check("a" * 32, None)


def test_a_customers_documents_are_apart_from_the_library(tmp_path):
    library = DocumentLibrary(tmp_path)
    pdf = pdf_with_pages(["Contract"])
    shared = library.add(pdf, name="contract.pdf", uploaded_by="a1")
    own = library.add(pdf, name="contract.pdf", uploaded_by="a1", customer_id="cus_1")
    assert own.id != shared.id and own.customer_id == "cus_1"
    # Under a folder named after the customer: the erasure of var/ finds it by that name.
    assert library.path(own).parent == tmp_path / "customers" / "cus_1"
    assert library.get(own.id) == own
    assert [d.id for d in library.list()] == [shared.id]
    assert [d.id for d in library.list(customer_id="cus_1")] == [own.id, shared.id]
    assert [d.id for d in library.list(customer_id="cus_2")] == [shared.id]
    with pytest.raises(Exception, match="not a customer id"):
        library.add(pdf, name="x.pdf", uploaded_by="a1", customer_id="../etc")


def test_push_tokens_name_one_visitor():
    signer = LinkSigner("secret")
    token = signer.push_token(push_id="p1", document_id="d" * 32, name="c.pdf", visitor_id="v1", agent_id="a1")
    assert signer.check_push(token, "v1")["p"] == "p1"
    assert signer.check_push(token, "v2") is None
    assert signer.check_push(token[:-2] + "xx", "v1") is None
    assert LinkSigner("other").check_push(token, "v1") is None
    # A download link is not a push token, nor the other way round.
    assert signer.check_push(signer.url("d" * 32, "v1").split("t=")[1], "v1") is None


def test_unmirrored_reports_are_checked_and_bounded():
    from signaling.protocol import ProtocolError, decode

    ok = decode("customer", b'{"type": "cobrowse_unmirrored", "frames": 1, "canvases": 2, "areas": '
                            b'[{"kind": "frame", "node": 7, "width": 400, "height": 80}]}', max_bytes=65536)
    assert ok.frames == 1 and ok.areas[0].node == 7
    too_many = b'{"type": "cobrowse_unmirrored", "areas": [' + b",".join(
        [b'{"kind": "canvas", "node": 1}'] * 51) + b"]}"
    for bad in (too_many, b'{"type": "cobrowse_unmirrored", "areas": [{"kind": "script", "node": 1}]}',
                b'{"type": "cobrowse_unmirrored", "frames": -1}',
                b'{"type": "cobrowse_unmirrored", "areas": [{"kind": "frame", "node": 1, "html": "<b>"}]}'):
        with pytest.raises(ProtocolError) as refused:
            decode("customer", bad, max_bytes=65536)
        assert refused.value.code == "bad_message"
    with pytest.raises(ProtocolError):  # agents don't send it
        decode("agent", b'{"type": "cobrowse_unmirrored"}', max_bytes=65536)
