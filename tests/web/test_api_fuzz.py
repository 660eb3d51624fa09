"""The API contract under fuzzing: schemathesis generates requests from GET /api/v1/openapi.json (its examples,
boundary "coverage" cases, undeclared methods, and positive and negative random data) and sends them through the
Flask app (WSGI, no server) as several roles and anonymously. Every answer must conform to the document (status,
content type, headers, body schema), no answer may be a 5xx, data the document calls invalid must be refused, and
data it calls valid must be accepted unless a business rule refuses it (an unknown customer code, a file that is not
what its name says): those fields are listed per operation below, everything else is a mismatch to fix."""

from __future__ import annotations

import re
import time
from collections import Counter
from typing import Any

import hypothesis
import schemathesis
from hypothesis import HealthCheck
from hypothesis import Phase
from schemathesis.config import SchemathesisConfig
from schemathesis.core.failures import FailureGroup
from schemathesis.generation.hypothesis.builder import HypothesisTestConfig
from schemathesis.generation.hypothesis.builder import HypothesisTestMode
from schemathesis.generation.hypothesis.builder import create_test
from schemathesis.specs.openapi.checks import positive_data_acceptance

ROLES = ("manager", "supervisor", "modeler", "designer", "hr", None)  # None: no token
MAX_EXAMPLES = 25
# Fields a schema-valid request may still be refused on (422) because a business rule says no; anything else means
# the document allows what the server refuses.
BUSINESS_RULES: dict[str, str] = {  # operation → regular expression of the field names
    "POST /cases": r"customer_code|origin_so_no|serial_no|received_at",  # unknown, serial not on the SO#, future
    "POST /cases/{case_id}/attachments": r"file",  # content does not match the extension
    "POST /cases/{case_id}/part-returns": r"part_no",  # not in the parts master (§3.1)
    "POST /service-contracts": r"customer_code|contract_no|origin_so_no|valid_to",  # unknown, taken, other's, before
    "POST /products/{code}/warranty-policies": r"product_code",  # unknown product
    "POST /products/{code}/syllabus": r"product_code|modules\[\d+\]\.code",  # unknown product, a code used twice
    "POST /work-orders/{wo_no}/assign": r"username",  # no such active user
    "POST /tasks/{task_id}/reassign": r"username",  # no such active user, or already theirs
    "POST /tasks/{task_id}/complete": r".+",  # the task's own form (its schema comes with GET /tasks/{id})
}
BUSINESS_ERRORS = {"invalid_definition", "workflow_error"}  # a deploy the linter refuses; a step that fails


class Findings:
    """What went wrong, grouped, with one example each."""

    def __init__(self) -> None:
        self.counts: Counter[tuple[str, ...]] = Counter()
        self.examples: dict[tuple[str, ...], str] = {}
        self.requests = 0
        self.server_errors = 0

    def add(self, key: tuple[str, ...], example: str) -> None:
        self.counts[key] += 1
        self.examples.setdefault(key, example)

    def report(self) -> str:
        return "\n".join(f"{n} × {' | '.join(k)}\n    {self.examples[k]}" for k, n in self.counts.most_common())


def business_refusal(case: Any, response: Any) -> bool:
    """A 422 on schema-valid data that names only fields of a business rule (or is a refused definition)."""
    if response.status_code != 422:
        return False
    body = response.json()
    if body.get("error") in BUSINESS_ERRORS:
        return True
    fields = set(body.get("fields") or {})
    rule = BUSINESS_RULES.get(case.operation.label)
    return bool(fields) and rule is not None and all(re.fullmatch(rule, name) for name in fields)


def fuzz_as(app: Any, headers: dict[str, str], findings: Findings, role: str) -> None:
    config = SchemathesisConfig.from_dict(
        {"headers": headers, "generation": {"mode": "all", "allow-x00": False, "max-examples": MAX_EXAMPLES}}
    )
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app, config=config)
    settings = hypothesis.settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
        phases=[Phase.explicit, Phase.generate],
    )
    operations = sorted((r.ok() for r in schema.get_all_operations()), key=lambda op: op.label == "POST /auth/revoke")

    def check(case: Any) -> None:
        findings.requests += 1
        response = case.call()
        findings.server_errors += response.status_code >= 500
        where = f"{role} {case.method} {case.formatted_path} query={case.query} body={str(case.body)[:200]}"
        try:
            case.validate_response(response, excluded_checks=[positive_data_acceptance])
        except FailureGroup as group:
            for failure in group.exceptions:
                answer = f"{where} -> {response.status_code} {response.text[:200]}"
                findings.add((case.operation.label, failure.title), answer)
        positive = case.meta is not None and case.meta.generation.mode.is_positive
        if positive and response.status_code in (400, 422) and not business_refusal(case, response):
            findings.add((case.operation.label, "schema-valid request refused"), f"{where} -> {response.text[:200]}")

    for operation in operations:
        test = create_test(
            operation=operation,
            test_func=check,
            config=HypothesisTestConfig(project=schema.config, modes=list(HypothesisTestMode), settings=settings),
        )
        test()


def test_the_api_conforms_to_its_document_under_fuzzing(app, api):
    findings = Findings()
    started = time.monotonic()
    for role in ROLES:
        headers = api(role).headers if role else {}
        fuzz_as(app, headers, findings, role or "anonymous")
    operations = len(app.test_client().get("/api/v1/openapi.json").get_json()["paths"])
    print(
        f"SECURITY fuzz paths={operations} roles={len(ROLES)} requests={findings.requests} "
        f"server_errors={findings.server_errors} nonconforming={sum(findings.counts.values())} "
        f"seconds={time.monotonic() - started:.0f}"
    )
    assert not findings.counts, findings.report()
