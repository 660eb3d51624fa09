"""Load a definition bundle (BPMN, DMN, JSON forms) into Spiff specs, with failures as file:line problems.

Files arrive as bytes keyed by their path relative to the bundle root. XML goes through the hardened
`parse_xml`, and SpiffWorkflow only ever sees parsed trees (`add_bpmn_xml` / `add_dmn_xml`).
"""

from __future__ import annotations

import functools
import json
import threading
from collections.abc import Mapping
from pathlib import PurePosixPath
from types import MappingProxyType
from typing import Any

from lxml import etree
from SpiffWorkflow.bpmn.parser.BpmnParser import BpmnValidator
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.dmn.parser.BpmnDmnParser import SCHEMAS as DMN_SCHEMAS
from SpiffWorkflow.spiff.parser.process import VALIDATOR
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser

from engine.bpmn.xml import MAX_XML_BYTES
from engine.bpmn.xml import parse_xml
from engine.errors import DefinitionError
from engine.errors import DefinitionProblem
from engine.errors import NotFoundError
from engine.errors import Problem

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
SUFFIXES = (".bpmn", ".dmn", ".json")

# The shared XSD validators keep their error log on the object, so one validation runs at a time.
_VALIDATION_LOCK = threading.Lock()


def describe(err: BaseException) -> str:
    """'Type: message' without SpiffWorkflow's trailing note separator."""
    text = str(err.args[0]) if err.args else str(err)
    return f"{type(err).__name__}: {text}"


def element_line(tree: etree._ElementTree, element_id: str) -> int | None:
    """Source line of the element with this id (SpiffWorkflow's semantic errors carry none)."""
    found = tree.getroot().xpath("//*[@id=$id]", id=element_id)
    return found[0].sourceline if found else None


Trees = Mapping[str, etree._ElementTree]


def validation_problem(err: Any, trees: Trees, default_file: str) -> DefinitionProblem:
    """Turn a SpiffWorkflow ValidationException into a problem, finding the line from the element id."""
    element_id = getattr(err, "id", "") or None
    file = getattr(err, "file_name", "") or default_file
    line = getattr(err, "line_number", None)
    line = line if isinstance(line, int) and line > 0 else None
    if line is None and element_id:
        for name in sorted(trees, key=lambda n: n != file):
            line = element_line(trees[name], element_id)
            if line is not None:
                file = name
                break
    return DefinitionProblem(file, line, str(err.args[0]) if err.args else str(err), element_id)


def _path_problem(name: str) -> DefinitionProblem | None:
    """Bundle keys are relative POSIX paths of a known file type."""
    path = PurePosixPath(name)
    if not name or "\\" in name or path.is_absolute() or ".." in path.parts:
        return DefinitionProblem(name, None, "file name must be a relative path without '..' or '\\'")
    if path.suffix not in SUFFIXES:
        return DefinitionProblem(name, None, "unsupported file type: a bundle holds .bpmn, .dmn and .json")
    return None


@functools.cache
def _dmn_validator(namespace: str) -> BpmnValidator | None:
    """The XSD validator for one DMN namespace, or None when SpiffWorkflow's schema for it does not load."""
    try:
        return BpmnValidator(DMN_SCHEMAS[namespace])
    except (KeyError, etree.LxmlError):
        return None


_PREFIXES = {
    "{http://www.omg.org/spec/BPMN/20100524/MODEL}": "bpmn:",
    "{http://spiffworkflow.org/bpmn/schema/1.0/core}": "spiffworkflow:",
    **{f"{{{ns}}}": "dmn:" for ns in DMN_SCHEMAS},
}


def _short(message: str) -> str:
    """Write '{namespace}tag' in libxml2 messages as 'prefix:tag'."""
    for long, prefix in _PREFIXES.items():
        message = message.replace(long, prefix)
    return message


def _xsd_problems(name: str, log: Any) -> list[DefinitionProblem]:
    """Every XSD error of one validation run, not only the last one SpiffWorkflow reports."""
    return [DefinitionProblem(name, entry.line or None, f"schema: {_short(entry.message)}") for entry in log]


class ParsedBundle:
    """A parsed, thread-safe bundle: specs on demand (cached), forms by name, and raw trees for the lint."""

    def __init__(self, files: Mapping[str, bytes], trees: Trees, parser: Any) -> None:
        self.files: Mapping[str, bytes] = MappingProxyType(dict(files))
        self.trees: Trees = MappingProxyType(dict(trees))
        self._parser = parser
        self._lock = threading.RLock()
        self._specs: dict[str, tuple[Any, dict[str, Any]]] = {}
        self._forms: dict[str, dict[str, Any]] = {}
        names = [n for n in self.files if n.endswith(".json")]
        basenames = [PurePosixPath(n).name for n in names]
        self._json_paths = {b: n for b, n in zip(basenames, names, strict=True) if basenames.count(b) == 1}
        top = [p for t in self.trees.values() for p in t.getroot().iterfind("bpmn:process", {"bpmn": BPMN_NS})]
        self._top_ids = frozenset(p.get("id") for p in top)

    def process_ids(self) -> list[str]:
        """Ids of the executable top-level processes, sorted.

        SpiffWorkflow also lists embedded subprocesses once a spec using them is built; those are left out.
        """
        with self._lock:
            return sorted(p for p in self._parser.get_process_ids() if p in self._top_ids)

    def spec(self, process_id: str) -> tuple[Any, dict[str, Any]]:
        """(spec, subprocess specs) for a process, parsed once and cached.

        :raises NotFoundError: no executable process has this id.
        :raises DefinitionError: SpiffWorkflow refuses the process (file, line and element given).
        """
        with self._lock:
            if process_id not in self._specs:
                self._specs[process_id] = self._build(process_id)
            return self._specs[process_id]

    def _build(self, process_id: str) -> tuple[Any, dict[str, Any]]:
        if process_id not in self.process_ids():
            raise NotFoundError(f"no executable process {process_id!r} in this bundle")
        try:
            return self._parser.get_spec(process_id), self._parser.get_subprocess_specs(process_id)
        except ValidationException as err:
            problem = validation_problem(err, self.trees, self.process_file(process_id))
            raise DefinitionError([problem]) from err
        except Exception as err:  # SpiffWorkflow raises raw KeyError/AttributeError on some odd input
            message = f"cannot be loaded: {describe(err)}"
            raise DefinitionError([DefinitionProblem(self.process_file(process_id), None, message)]) from err

    def process_file(self, process_id: str) -> str:
        """Bundle key of the file that defines a process ('' if none does)."""
        for name, tree in self.trees.items():
            if tree.getroot().xpath("//bpmn:process[@id=$id]", namespaces={"bpmn": BPMN_NS}, id=process_id):
                return name
        return ""

    def name_of(self, spec_file: str | None) -> str | None:
        """Bundle key for a spec's `file` attribute (specs are parsed with their bundle key as file name)."""
        return spec_file if spec_file in self.files else None

    def form_path(self, filename: str) -> str | None:
        """Bundle key of a JSON file named in a model (matched by base name), or None."""
        return self._json_paths.get(PurePosixPath(filename).name)

    def form(self, filename: str) -> dict[str, Any]:
        """Parsed JSON of a form file named in a model (by base name, e.g. 'review_csi.schema.json').

        :raises NotFoundError: the bundle has no such file (or two with that base name).
        :raises DefinitionError: the file is not a JSON object.
        """
        path = self.form_path(filename)
        if path is None:
            raise NotFoundError(f"form {filename!r} is not in this bundle")
        with self._lock:
            if path not in self._forms:
                value, problem = load_json(path, self.files[path])
                if problem is not None or not isinstance(value, dict):
                    raise DefinitionError([problem or DefinitionProblem(path, None, "must be a JSON object")])
                self._forms[path] = value
            return self._forms[path]


def load_json(name: str, data: bytes, *, max_bytes: int = MAX_XML_BYTES) -> tuple[Any, DefinitionProblem | None]:
    """Parse a JSON file strictly (UTF-8, no NaN/Infinity), returning the value or the problem."""
    if len(data) > max_bytes:
        return None, DefinitionProblem(
            name,
            None,
            Problem(
                "file_too_big", f"file is {len(data)} bytes; the limit is {max_bytes}", size=len(data), limit=max_bytes
            ),
        )

    def refuse_constant(token: str) -> Any:
        raise ValueError(f"{token} is not valid JSON")

    try:
        return json.loads(data.decode("utf-8"), parse_constant=refuse_constant), None
    except UnicodeDecodeError as err:
        return None, DefinitionProblem(name, None, Problem("not_utf8", f"file is not UTF-8: {err.reason}"))
    except json.JSONDecodeError as err:
        return None, DefinitionProblem(
            name,
            err.lineno,
            Problem(
                "json_syntax",
                f"invalid JSON: {err.msg}",
                line=err.lineno,
                column=err.colno,
                detail=err.msg,
            ),
        )
    except (ValueError, RecursionError) as err:
        return None, DefinitionProblem(
            name, None, Problem("json_syntax", f"invalid JSON: {err}", line=0, column=0, detail=str(err))
        )


def _add_bpmn(parser: Any, name: str, tree: etree._ElementTree, validate: bool) -> list[DefinitionProblem]:
    """Add one BPMN tree; XSD errors come back all at once."""
    with _VALIDATION_LOCK:
        try:
            parser.add_bpmn_xml(tree, filename=name)
            return []
        except ValidationException as err:
            log = list(VALIDATOR.validator.error_log) if validate else []
            if log:
                return _xsd_problems(name, log)
            return [validation_problem(err, {name: tree}, name)]


def _add_dmn(parser: Any, name: str, tree: etree._ElementTree, validate: bool) -> list[DefinitionProblem]:
    """Validate one DMN tree with a cached validator (Spiff's reports only the last error), then add it."""
    root = tree.getroot()
    namespace = etree.QName(root).namespace or ""
    if validate:
        validator = _dmn_validator(namespace)
        if validator is None:
            message = f"unsupported DMN namespace {namespace!r}: save the file as DMN 1.3"
            return [DefinitionProblem(name, root.sourceline, message)]
        with _VALIDATION_LOCK:
            if not validator.validator.validate(tree):
                return _xsd_problems(name, validator.validator.error_log)
    parser.add_dmn_xml(root, filename=name)
    return []


def _root_problem(name: str, tree: etree._ElementTree) -> DefinitionProblem | None:
    """A .bpmn file must hold bpmn:definitions and a .dmn file DMN definitions."""
    qname = etree.QName(tree.getroot())
    if name.endswith(".bpmn") and (qname.namespace, qname.localname) != (BPMN_NS, "definitions"):
        return DefinitionProblem(name, tree.getroot().sourceline, "root element must be bpmn:definitions")
    if name.endswith(".dmn") and (qname.namespace not in DMN_SCHEMAS or qname.localname != "definitions"):
        return DefinitionProblem(name, tree.getroot().sourceline, "root element must be DMN definitions")
    return None


def _add(parser: Any, name: str, tree: etree._ElementTree, validate: bool) -> list[DefinitionProblem]:
    """Hand one parsed tree to SpiffWorkflow, collecting problems instead of raising."""
    try:
        if name.endswith(".dmn"):
            return _add_dmn(parser, name, tree, validate)
        return _add_bpmn(parser, name, tree, validate)
    except ValidationException as err:
        return [validation_problem(err, {name: tree}, name)]
    except Exception as err:  # SpiffWorkflow raises raw KeyError/AttributeError on some odd input
        return [DefinitionProblem(name, None, f"cannot be loaded: {describe(err)}")]


def load_bundle(files: Mapping[str, bytes], *, validate: bool = True) -> tuple[ParsedBundle, list[DefinitionProblem]]:
    """Parse every file of a bundle, returning the bundle and the problems found (the lint's first pass)."""
    parser = SpiffBpmnParser(validator=VALIDATOR if validate else None)
    problems: list[DefinitionProblem] = []
    trees: dict[str, etree._ElementTree] = {}
    for name in sorted(files):
        path_problem = _path_problem(name)
        if path_problem is not None:
            problems.append(path_problem)
        elif not name.endswith(".json"):
            try:
                tree = parse_xml(files[name], name)
            except DefinitionError as err:
                problems.extend(err.problems)
                continue
            root_problem = _root_problem(name, tree)
            if root_problem is None:
                trees[name] = tree
            else:
                problems.append(root_problem)
    for name, tree in trees.items():
        problems.extend(_add(parser, name, tree, validate))
    return ParsedBundle(files, trees, parser), problems


def parse_bundle(files: Mapping[str, bytes], *, validate: bool = True) -> ParsedBundle:
    """Parse a bundle for running it; process specs are checked when first requested.

    :raises DefinitionError: a file is not well-formed, has a DOCTYPE, or fails the BPMN/DMN schema.
    """
    bundle, problems = load_bundle(files, validate=validate)
    if problems:
        raise DefinitionError(problems)
    return bundle
