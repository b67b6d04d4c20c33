"""docs/protocol.md and the code name the same messages with the same fields.

The doc's "Message index" has one table per direction; each row is a message type and its
fields (``name?``: may be absent). A type or a field added to the code and not to the doc,
or the other way round, fails here with the row the doc should have.
"""

from __future__ import annotations

import re
from pathlib import Path

import msgspec
import pytest

from signaling.protocol import inbound, outbound

DOC = Path(__file__).resolve().parents[3] / "docs" / "protocol.md"

SECTIONS = {
    "Client → server": inbound.INBOUND,
    "Server → client": outbound.OUTBOUND,
    "Between processes": outbound.BETWEEN_PROCESSES,
}


def _shape(struct: type[msgspec.Struct]) -> dict[str, bool]:
    """field -> always there: a browser may leave out a field with a default; the server leaves
    out only those that are UNSET (it sends every default)."""
    fields = msgspec.inspect.type_info(struct).fields
    if struct in inbound.INBOUND.values():
        return {field.name: field.required for field in fields}
    # msgspec.inspect shows an UNSET default as "no default, not required".
    return {field.name: field.required or field.default is not msgspec.NODEFAULT for field in fields}


def _code(registry) -> dict[str, dict[str, bool]]:
    """type -> {field: required} over every shape of the type (absent from one shape: optional)."""
    found = {}
    for tag, structs in registry.items():
        shapes = [_shape(struct) for struct in (structs if isinstance(structs, tuple) else (structs,))]
        if tag == "welcome":  # the hub's envelope, then the role's part
            shapes = [{**_shape(outbound.OutWelcome), **_shape(part)}
                      for part in (outbound.CustomerWelcome, outbound.AgentWelcome, outbound.SupervisorWelcome)]
        names = dict.fromkeys(name for shape in shapes for name in shape)
        found[tag] = {name: all(shape.get(name, False) for shape in shapes) for name in names}
    return found


def _row(tag: str, fields: dict[str, bool]) -> str:
    names = ", ".join(f"`{name}{'' if required else '?'}`" for name, required in fields.items()) or "—"
    return f"| `{tag}` | {names} |"


def _doc_index() -> dict[str, dict[str, dict[str, bool]]]:
    text = DOC.read_text(encoding="utf-8")
    index = text.split("\n## Message index\n", 1)
    assert len(index) == 2, "docs/protocol.md has no '## Message index' section"
    tables: dict[str, dict[str, dict[str, bool]]] = {}
    section = None
    for line in index[1].splitlines():
        if line.startswith("## "):
            break
        if line.startswith("### "):
            section = line[4:].strip()
            tables[section] = {}
            continue
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")] if line.startswith("|") else []
        if section is None or len(cells) < 2 or not re.fullmatch(r"`[a-z_]+`", cells[0]):
            continue
        tag = cells[0].strip("`")
        assert tag not in tables[section], f"{tag} is listed twice under {section}"
        tables[section][tag] = {name.rstrip("?"): not name.endswith("?")
                                for name in re.findall(r"`([a-z_]+\??)`", cells[1])}
    return tables


@pytest.mark.parametrize("section", list(SECTIONS))
def test_the_doc_lists_every_message_type_of_the_code_and_no_other(section):
    doc = _doc_index().get(section)
    assert doc is not None, f"docs/protocol.md's message index has no '### {section}' table"
    code = _code(SECTIONS[section])
    missing = {tag: _row(tag, code[tag]) for tag in code if tag not in doc}
    assert not missing, f"in the code, not in docs/protocol.md ({section}):\n" + "\n".join(missing.values())
    extra = sorted(set(doc) - set(code))
    assert not extra, f"in docs/protocol.md ({section}), not in the code: {extra}"


@pytest.mark.parametrize("section", list(SECTIONS))
def test_the_doc_gives_each_message_the_fields_of_its_struct(section):
    doc = _doc_index()[section]
    code = _code(SECTIONS[section])
    wrong = {tag: _row(tag, code[tag]) for tag in code if tag in doc and doc[tag] != code[tag]}
    assert not wrong, f"fields differ from the code ({section}); the rows should read:\n" + "\n".join(wrong.values())


def test_every_indexed_type_is_described_in_the_prose():
    text = DOC.read_text(encoding="utf-8")
    prose = text.split("\n## Message index\n", 1)[0]
    undescribed = sorted(tag for tag in (*inbound.INBOUND, *outbound.OUTBOUND)
                         if not re.search(f"`{tag}[` ]", prose))
    assert not undescribed, f"docs/protocol.md's prose never names: {undescribed}"
