"""Hostile XML never reaches the engine: DOCTYPE, entities, oversize and malformed input are refused."""

from __future__ import annotations

import gzip
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from lxml import etree  # type: ignore[import-untyped]

from engine.bpmn.xml import parse_xml
from engine.errors import DefinitionError

CORPUS = Path(__file__).resolve().parents[1] / "corpus" / "xml"
VALID = Path(__file__).resolve().parents[1] / "corpus" / "bpmn" / "valid" / "case.bpmn"


def refused(data: bytes, name: str = "upload.bpmn", **kwargs: int) -> str:
    """The single problem parse_xml reports, as 'file:line: message'."""
    with pytest.raises(DefinitionError) as caught:
        parse_xml(data, name, **kwargs)
    assert len(caught.value.problems) == 1
    return str(caught.value.problems[0])


@pytest.fixture
def canary() -> Iterator[socket.socket]:
    """A listening loopback socket: any fetch attempt by the parser would queue a connection on it."""
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    server.setblocking(False)
    yield server
    server.close()


def no_connection(server: socket.socket) -> bool:
    try:
        conn, _ = server.accept()
    except BlockingIOError:
        return True
    conn.close()
    return False


def test_lxml_is_new_enough_to_not_load_external_entities_by_default() -> None:
    assert etree.LXML_VERSION >= (5,)


def test_valid_bpmn_parses_to_a_tree() -> None:
    tree = parse_xml(VALID.read_bytes(), "case.bpmn")
    assert etree.QName(tree.getroot()).localname == "definitions"
    assert tree.getroot().sourceline == 4  # libxml2 reports the line where a multi-line start tag ends


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("xxe_file.bpmn", "xxe_file.bpmn:2: DOCTYPE is not allowed"),
        ("external_dtd.bpmn", "external_dtd.bpmn:2: DOCTYPE is not allowed"),
        ("billion_laughs.bpmn", "billion_laughs.bpmn:2: DOCTYPE is not allowed"),
        ("parameter_entity.bpmn", "parameter_entity.bpmn:2: DOCTYPE is not allowed"),
        ("internal_subset.bpmn", "internal_subset.bpmn:2: DOCTYPE is not allowed"),
        ("malformed.bpmn", "malformed.bpmn:5: XML is not well-formed: Opening and ending tag mismatch"),
    ],
)
def test_hostile_corpus_is_refused_with_file_and_line(name: str, expected: str) -> None:
    assert refused((CORPUS / name).read_bytes(), name).startswith(expected)


def test_no_file_content_leaks_into_the_refusal() -> None:
    hostname = Path("/etc/hostname").read_text().strip() if Path("/etc/hostname").exists() else "no-such-text"
    message = refused((CORPUS / "xxe_file.bpmn").read_bytes())
    assert hostname not in message


@pytest.mark.parametrize("kind", ["dtd", "parameter", "entity"])
def test_no_network_fetch_for_external_dtd_or_entities(canary: socket.socket, kind: str) -> None:
    url = f"http://127.0.0.1:{canary.getsockname()[1]}/x.dtd"
    doctype = {
        "dtd": f'<!DOCTYPE d SYSTEM "{url}">',
        "parameter": f'<!DOCTYPE d [<!ENTITY % p SYSTEM "{url}"> %p;]>',
        "entity": f'<!DOCTYPE d [<!ENTITY e SYSTEM "{url}">]>',
    }[kind]
    body = "<d>&e;</d>" if kind == "entity" else "<d/>"
    refused(f'<?xml version="1.0"?>\n{doctype}\n{body}'.encode())
    assert no_connection(canary)


def test_xinclude_is_never_processed() -> None:
    tree = parse_xml((CORPUS / "xinclude.bpmn").read_bytes(), "xinclude.bpmn")
    included = tree.getroot().findall(".//{http://www.w3.org/2001/XInclude}include")
    assert len(included) == 1  # still an inert element: nothing was read from disk
    assert included[0].text is None


def test_size_cap_is_checked_before_parsing() -> None:
    data = VALID.read_bytes()
    assert refused(data, "case.bpmn", max_bytes=len(data) - 1) == (
        f"case.bpmn: file is {len(data)} bytes; the limit is {len(data) - 1} bytes"
    )
    oversize = b"<d>" + b"x" * 2_000_000 + b"</d>"
    assert "the limit is 2000000 bytes" in refused(oversize)


def test_deep_nesting_is_refused() -> None:
    assert "XML is not well-formed" in refused(b"<a>" * 20_000 + b"</a>" * 20_000)


def test_gzip_bytes_are_not_decompressed() -> None:
    assert "XML is not well-formed" in refused(gzip.compress(VALID.read_bytes()))


def test_empty_and_text_input() -> None:
    assert "XML is not well-formed" in refused(b"")
    with pytest.raises(TypeError):
        parse_xml(VALID.read_text(), "case.bpmn")  # type: ignore[arg-type]


def test_comments_and_processing_instructions_are_dropped() -> None:
    tree = parse_xml(b"<?xml version='1.0'?><d><!-- hidden --><?php evil ?><e/></d>", "x.bpmn")
    assert [child.tag for child in tree.getroot()] == ["e"]
