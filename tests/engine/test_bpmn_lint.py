"""The deploy lint refuses unsafe or unrunnable models with file, line and element, and passes a good one."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from engine.bpmn.lint import lint_bundle
from engine.bpmn.lint import validate_bundle
from engine.bpmn.specs import ParsedBundle
from engine.bpmn.specs import parse_bundle
from engine.errors import DefinitionError
from engine.errors import DefinitionProblem
from engine.errors import NotFoundError

CORPUS = Path(__file__).resolve().parents[1] / "corpus"
ROLES = {"service_manager", "system"}
OPERATORS = {"crm/create_ticket"}


def valid_files() -> dict[str, bytes]:
    root = CORPUS / "bpmn" / "valid"
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def lint(files: dict[str, bytes]) -> list[str]:
    return [str(p) for p in lint_bundle(files, roles=ROLES, operators=OPERATORS)]


def with_corpus(name: str, as_name: str | None = None) -> dict[str, bytes]:
    return {**valid_files(), (as_name or name): (CORPUS / "bpmn" / name).read_bytes()}


def test_valid_bundle_passes_and_loads() -> None:
    assert lint(valid_files()) == []
    bundle = validate_bundle(valid_files(), roles=ROLES, operators=OPERATORS)
    assert bundle.process_ids() == ["case", "close_case"]
    spec, subprocess_specs = bundle.spec("case")
    assert bundle.spec("case")[0] is spec  # cached
    assert list(subprocess_specs) == ["close_case"]
    assert spec.task_specs["review"].lane == "service_manager"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        (
            "escape_script.bpmn",
            ['escape_script.bpmn:10 [grab_classes]: script: "__subclasses__" is an invalid attribute name'],
        ),
        (
            "import_script.bpmn",
            ["import_script.bpmn:10 [read_env]: script: import is not allowed; use the provided helper"],
        ),
        (
            "import_condition.bpmn",
            ['import_condition.bpmn:10 [f_yes]: condition: "__import__" is an invalid variable name'],
        ),
        (
            "unquoted_timer.bpmn",
            ['unquoted_timer.bpmn:10 [wait_an_hour]: timer duration PT1H is evaluated as Python: quote it, "PT1H"'],
        ),
        (
            "bad_timer_values.bpmn",
            [
                "bad_timer_values.bpmn:9 [wait_typo]: timer value 'PT1X' is not a valid ISO-8601 duration",
                "bad_timer_values.bpmn:13 [wait_naive]: timer date '2030-01-31T09:00:00' has no UTC offset",
                "bad_timer_values.bpmn:17 [wait_number]: timer cycle must be ISO-8601 text, not int",
                "bad_timer_values.bpmn:25 [wait_forever]: timer duration 'P99999999Y' ends beyond the last date",
            ],
        ),
        (
            "dangling_flows.bpmn",  # accepted before: instances failed naming nothing, or ended without their end event
            [
                "dangling_flows.bpmn:6 [t]: outgoing 'f2' names no sequence flow of this process",
                "dangling_flows.bpmn:7 [e]: incoming 'f2' names no sequence flow of this process",
                "dangling_flows.bpmn:8 [f3]: sequence flow 'f3': its targetRef 'nowhere' is no element",
                "dangling_flows.bpmn:6 [t]: manual task is outside any lane",
            ],
        ),
        (
            "xor_without_default.bpmn",
            ["xor_without_default.bpmn:8 [is_urgent]: exclusive gateway has 2 outgoing flows but no default"],
        ),
        (
            "user_task_problems.bpmn",
            [
                "user_task_problems.bpmn:16 [review_without_form]: user task has no form: "
                "add spiffworkflow:property formJsonSchemaFilename",
                "user_task_problems.bpmn:18 [sweep_floor]: user task is in lane 'janitor', which is not a role",
                "user_task_problems.bpmn:26 [approve_alone]: form file 'missing.schema.json' is not in the",
                "user_task_problems.bpmn:26 [approve_alone]: user task is outside any lane",
            ],
        ),
        (
            "unknown_operator.bpmn",
            [
                "unknown_operator.bpmn:10 [run_shell]: unknown service operator 'shell/run' "
                "(known operators: crm/create_ticket)"
            ],
        ),
        (
            "unsupported_elements.bpmn",
            [
                "unsupported_elements.bpmn:8 [merge_somehow]: complex gateways are not supported",
                "unsupported_elements.bpmn:10 [book_refund]: transactions (cancel/compensation semantics)",
                "unsupported_elements.bpmn:17 [jump]: link events are not supported",
            ],
        ),
        (
            "ignored_prescript.bpmn",
            ["ignored_prescript.bpmn:10 [compute]: pre-script on a scriptTask is ignored by the engine"],
        ),
        (
            "schema_errors.bpmn",
            [
                "schema_errors.bpmn:6: schema: Element 'bpmn:startEvent', attribute 'bogus': "
                "The attribute 'bogus' is not allowed.",
                "schema_errors.bpmn:8: schema: Element 'bpmn:notAnElement': This element is not expected.",
            ],
        ),
        ("no_start_event.bpmn", ["no_start_event.bpmn:5 [no_start_event]: No start event found"]),
    ],
)
def test_bad_bpmn_is_refused_with_file_line_and_element(name: str, expected: list[str]) -> None:
    problems = lint(with_corpus(name))
    assert len(problems) == len(expected), problems
    for problem, prefix in zip(problems, expected, strict=True):
        assert problem.startswith(prefix), problem


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("dmn_without_catch_all.dmn", ["service_mode.dmn:5 [dt_service_mode]: decision table has no catch-all rule"]),
        (
            "dmn_bad_cells.dmn",
            [
                "service_mode.dmn:14 [r_escape]: rule 2 follows catch-all rule 1 and never matches",
                "service_mode.dmn:15 [r_escape_fee]: rule 2 input entry 'fee.__class__': \"__class__\" is an",
                'service_mode.dmn:16 [r_escape_mode]: rule 2 output entry: "__import__" is an invalid variable',
            ],
        ),
    ],
)
def test_bad_dmn_is_refused(name: str, expected: list[str]) -> None:
    problems = lint(with_corpus(name, "service_mode.dmn"))
    assert len(problems) == len(expected), problems
    for problem, prefix in zip(problems, expected, strict=True):
        assert problem.startswith(prefix), problem


@pytest.mark.parametrize(
    ("name", "prefix"),
    [
        ("xxe_file.bpmn", "xxe_file.bpmn:2: DOCTYPE is not allowed"),
        ("internal_subset.bpmn", "internal_subset.bpmn:2: DOCTYPE is not allowed"),
        ("malformed.bpmn", "malformed.bpmn:5: XML is not well-formed"),
    ],
)
def test_hostile_xml_in_a_bundle_is_refused(name: str, prefix: str) -> None:
    files = {**valid_files(), name: (CORPUS / "xml" / name).read_bytes()}
    problems = lint(files)
    assert len(problems) == 1 and problems[0].startswith(prefix), problems


def test_validate_bundle_raises_with_every_problem() -> None:
    files = with_corpus("user_task_problems.bpmn")
    with pytest.raises(DefinitionError) as caught:
        validate_bundle(files, roles=ROLES, operators=OPERATORS)
    assert len(caught.value.problems) == 4
    assert all(isinstance(p, DefinitionProblem) and p.line and p.element_id for p in caught.value.problems)
    assert "user_task_problems.bpmn:16 [review_without_form]: user task has no form" in str(caught.value)


def test_empty_roles_and_operators_are_reported_as_none_known() -> None:
    problems = [str(p) for p in lint_bundle(valid_files(), roles=(), operators=())]
    lane = "case.bpmn:53 [review]: user task is in lane 'service_manager', which is not a role (none)"
    assert lane in problems
    assert any("unknown service operator 'crm/create_ticket' (known operators: none)" in p for p in problems)


def test_no_executable_process() -> None:
    files = valid_files()
    for name in ("case.bpmn", "close_case.bpmn"):
        files[name] = files[name].replace(b'isExecutable="true"', b'isExecutable="false"')
    problems = lint(files)
    assert any(p.startswith("case.bpmn:") and "has isExecutable='false': nothing deployed" in p for p in problems)


def test_broken_references_are_reported() -> None:
    files = valid_files()
    del files["close_case.bpmn"]
    dmn = files["service_mode.dmn"]
    files["service_mode.dmn"] = dmn.replace(b'decision id="service_mode"', b'decision id="x"')
    problems = lint(files)
    assert problems == [
        "case.bpmn:30 [decide]: business rule task calls decision 'service_mode', which no DMN file defines",
        "case.bpmn:70 [call_sub]: call activity calls 'close_case', which is not an executable process here",
    ]


def test_form_files_are_checked() -> None:
    files = valid_files()
    files["forms/review.schema.json"] = json.dumps(
        {"type": "array", "items": {"$ref": "https://example.com/x.json"}, "minItems": "one"}
    ).encode()
    files["forms/review.ui.json"] = b'{\n  "ui:order": [\n}'
    problems = lint(files)
    assert problems == [
        "forms/review.schema.json: not a valid JSON Schema at minItems: 'one' is not of type 'integer'",
        'forms/review.schema.json: form schema must have "type": "object"',
        "forms/review.schema.json: $ref 'https://example.com/x.json' points outside the file: only '#/...' works",
        "forms/review.ui.json:3: invalid JSON: Expecting value",
    ]


def test_json_constants_and_duplicate_names_are_refused() -> None:
    files = valid_files()
    files["forms/extra.json"] = b'{"x": NaN}'
    files["other/review.ui.json"] = b"{}"
    problems = lint(files)
    assert "forms/extra.json: invalid JSON: NaN is not valid JSON" in problems
    assert any(p.startswith("forms/review.ui.json: same file name as other/review.ui.json") for p in problems)
    missing = "case.bpmn:53 [review]: form file 'review.ui.json' is not in the bundle"
    assert any(p.startswith(missing) for p in problems)


def test_file_names_and_types_are_checked() -> None:
    files = {**valid_files(), "../escape.bpmn": b"<x/>", "notes.txt": b"hi"}
    problems = lint(files)
    assert "../escape.bpmn: file name must be a relative path without '..' or '\\'" in problems
    assert "notes.txt: unsupported file type: a bundle holds .bpmn, .dmn and .json" in problems


def test_duplicate_process_id_names_the_line() -> None:
    files = {**valid_files(), "copy.bpmn": valid_files()["close_case.bpmn"]}
    problems = lint(files)
    duplicate = "copy.bpmn:4 [close_case]: Duplicate process ID: close_case"
    assert any(p.startswith(duplicate) for p in problems), problems


def test_parse_bundle_serves_forms_and_file_names() -> None:
    bundle = parse_bundle(valid_files())
    assert isinstance(bundle, ParsedBundle)
    assert bundle.form("review.schema.json")["title"] == "Review"
    assert bundle.form_path("forms/review.ui.json") == "forms/review.ui.json"
    assert bundle.form_path("nope.json") is None
    spec, _ = bundle.spec("case")
    assert bundle.name_of(spec.file) == "case.bpmn"
    with pytest.raises(NotFoundError):
        bundle.form("nope.schema.json")
    with pytest.raises(NotFoundError):
        bundle.spec("nope")


def test_parse_bundle_refuses_schema_errors_but_defers_semantics() -> None:
    with pytest.raises(DefinitionError, match="attribute 'bogus'"):
        parse_bundle(with_corpus("schema_errors.bpmn"))
    bundle = parse_bundle(with_corpus("no_start_event.bpmn"))
    with pytest.raises(DefinitionError) as caught:
        bundle.spec("no_start_event")
    assert caught.value.problems == [
        DefinitionProblem("no_start_event.bpmn", 5, "No start event found", "no_start_event")
    ]


def test_dmn_schema_errors_are_all_reported() -> None:
    files = valid_files()
    files["service_mode.dmn"] = (
        files["service_mode.dmn"]
        .replace(b'<rule id="r_big">', b'<rule id="r_big" bogus="1">')
        .replace(b'<rule id="r_any">', b'<rule id="r_any" other="2">')
    )
    problems = lint(files)
    assert [p.split(":")[0:2] for p in problems] == [["service_mode.dmn", "10"], ["service_mode.dmn", "18"]]
    assert "attribute 'bogus'" in problems[0] and "attribute 'other'" in problems[1]


def _mutate(data: bytes, drops: list[int], strip_attributes: list[int], garble: list[int]) -> bytes:
    """Drop elements, remove all attributes of some, and garble the text of others."""
    from lxml import etree  # type: ignore[import-untyped]

    root = etree.fromstring(data)
    elements = list(root.iter(etree.Element))
    for index in strip_attributes:
        elements[index % len(elements)].attrib.clear()
    for index in garble:
        elements[index % len(elements)].text = "__import__('os') )("
    for index in drops:
        element = elements[index % len(elements)]
        if element.getparent() is not None:
            element.getparent().remove(element)
    return bytes(etree.tostring(root))


@settings(max_examples=60, deadline=None)
@given(
    target=st.sampled_from(["case.bpmn", "service_mode.dmn"]),
    drops=st.lists(st.integers(min_value=0, max_value=500), max_size=4),
    strip_attributes=st.lists(st.integers(min_value=0, max_value=500), max_size=3),
    garble=st.lists(st.integers(min_value=0, max_value=500), max_size=3),
)
def test_mutated_models_give_problems_never_crashes(
    target: str, drops: list[int], strip_attributes: list[int], garble: list[int]
) -> None:
    files = valid_files()
    files[target] = _mutate(files[target], drops, strip_attributes, garble)
    problems = lint_bundle(files, roles=ROLES, operators=OPERATORS)
    assert all(isinstance(p, DefinitionProblem) and p.message for p in problems)
    if not problems:
        bundle = validate_bundle(files, roles=ROLES, operators=OPERATORS)
        for process_id in bundle.process_ids():
            bundle.spec(process_id)


def test_extension_ids_must_not_clash_with_element_ids() -> None:
    """SpiffWorkflow 3.2.0 indexes every id in a process; an operator named like its task breaks the flow."""
    files = valid_files()
    files["case.bpmn"] = files["case.bpmn"].replace(
        b'serviceTaskOperator id="crm/create_ticket"', b'serviceTaskOperator id="open_ticket"'
    )
    problems = [str(p) for p in lint_bundle(files, roles=ROLES, operators={"open_ticket"})]
    assert problems == [
        "case.bpmn:44 [open_ticket]: spiffworkflow:serviceTaskOperator id 'open_ticket' is also a BPMN element "
        "id in this process; SpiffWorkflow would confuse the two: rename one"
    ]


def test_elements_without_id_are_reported() -> None:
    files = valid_files()
    close = files["close_case.bpmn"].replace(b'<bpmn:endEvent id="close_end" />', b"<bpmn:endEvent />")
    files["close_case.bpmn"] = close.replace(b'targetRef="close_end"', b'targetRef="mark_closed"')
    message = "close_case.bpmn:9 [close_case]: bpmn:endEvent has no id: the engine names every element by its id"
    assert message in lint(files)


EMBEDDED = b"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
                  xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="d" targetNamespace="x">
  <bpmn:process id="outer" isExecutable="true">
    <bpmn:laneSet id="ls"><bpmn:lane id="l" name="service_manager"><bpmn:flowNodeRef>inner</bpmn:flowNodeRef>
    </bpmn:lane></bpmn:laneSet>
    <bpmn:startEvent id="s" />
    <bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="inner" />
    <bpmn:subProcess id="inner">
      <bpmn:startEvent id="is" />
      <bpmn:sequenceFlow id="if1" sourceRef="is" targetRef="check" />
      <bpmn:userTask id="check">
        <bpmn:extensionElements><spiffworkflow:properties>
          <spiffworkflow:property name="formJsonSchemaFilename" value="review.schema.json" />
        </spiffworkflow:properties></bpmn:extensionElements>
      </bpmn:userTask>
      <bpmn:sequenceFlow id="if2" sourceRef="check" targetRef="ie" />
      <bpmn:endEvent id="ie" />
    </bpmn:subProcess>
    <bpmn:sequenceFlow id="f2" sourceRef="inner" targetRef="e" />
    <bpmn:endEvent id="e" />
  </bpmn:process>
</bpmn:definitions>"""


def test_embedded_subprocess_lane_and_process_ids() -> None:
    files = {"outer.bpmn": EMBEDDED, "forms/review.schema.json": valid_files()["forms/review.schema.json"]}
    bundle = validate_bundle(files, roles=ROLES, operators=OPERATORS)  # the user task inherits the lane
    spec, subprocess_specs = bundle.spec("outer")
    assert list(subprocess_specs) == ["inner"]
    assert subprocess_specs["inner"].task_specs["check"].lane == "service_manager"
    assert bundle.process_ids() == ["outer"]  # SpiffWorkflow itself would now list 'inner' too
