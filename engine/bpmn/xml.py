"""Hardened XML loading for uploaded BPMN/DMN files, so no entity, DTD or network trick reaches the engine."""

from __future__ import annotations

from lxml import etree

from engine.errors import DefinitionError
from engine.errors import DefinitionProblem

MAX_XML_BYTES = 2_000_000
_NO_DOCTYPE = "DOCTYPE is not allowed: definitions may not declare DTDs or entities"


def _make_parser() -> etree.XMLParser:
    """Build a fresh parser per call: lxml parsers are not thread-safe and one costs microseconds."""
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        attribute_defaults=False,
        huge_tree=False,
        recover=False,
        remove_comments=True,
        remove_pis=True,
    )


def _refuse(filename: str, line: int | None, message: str) -> DefinitionError:
    """Wrap one problem into the error every loader raises."""
    return DefinitionError([DefinitionProblem(filename, line, message)])


def _doctype_line(data: bytes) -> int | None:
    """Find the DOCTYPE's line for the message; lxml does not report it."""
    at = data.find(b"<!DOCTYPE")
    return data.count(b"\n", 0, at) + 1 if at >= 0 else None


def parse_xml(data: bytes, filename: str, *, max_bytes: int = MAX_XML_BYTES) -> etree._ElementTree:
    """Parse untrusted XML bytes into a tree, refusing oversize input, DOCTYPEs and malformed XML."""
    if not isinstance(data, bytes):
        raise TypeError("parse_xml takes bytes, not text: the XML declaration decides the encoding")
    if len(data) > max_bytes:
        raise _refuse(filename, None, f"file is {len(data)} bytes; the limit is {max_bytes} bytes")
    try:
        root = etree.fromstring(data, parser=_make_parser())
    except etree.XMLSyntaxError as err:
        doctype_line = _doctype_line(data)
        if doctype_line is not None:  # entity tricks fail inside libxml2; name the root cause instead
            raise _refuse(filename, doctype_line, _NO_DOCTYPE) from None
        raise _refuse(filename, err.lineno or None, f"XML is not well-formed: {err.msg}") from None
    except (etree.LxmlError, ValueError) as err:
        raise _refuse(filename, None, f"XML could not be read: {err}") from None
    if root is None:
        raise _refuse(filename, None, "XML document is empty")
    tree = root.getroottree()
    if tree.docinfo.doctype or tree.docinfo.internalDTD is not None:
        raise _refuse(filename, _doctype_line(data), _NO_DOCTYPE)
    return tree
