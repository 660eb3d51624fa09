"""Authorization matrix (reliability.md §3.6 A1): every route of the app (from `app.url_map`) × every role and
anonymous, with the status each must get. A route missing from POLICY fails the test, so a new route cannot ship
without a decision on who may use it.

Requests that change state are sent with bodies the server refuses (422) where possible, so that a role that may not
act must get its 403 before any validation; claim and release use a task of the role's own, and sign-out and token
revocation run last.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field
from typing import Any

import pytest

from engine.aftersales.demo import DEMO_PASSWORD
from engine.platform.users import create_user
from tests.helpers import QUALITY_COMPLAINT
from tests.web.test_security import csrf_from

ROLE_USERS = {
    "service_director": "director",
    "service_manager": "manager",
    "service_supervisor": "supervisor",
    "service_engineer": "engineer",
    "engineering_qc": "qc",
    "sales": "sales",
    "product_design": "designer",
    "hr": "hr",
    "process_designer": "modeler",
    "admin": "admin",
}
ANONYMOUS = "anonymous"
EVERYONE = frozenset(ROLE_USERS.values())
READERS = frozenset({"director", "manager", "supervisor", "engineer", "qc", "sales", "admin"})
ARCHIVE_READERS = READERS | {"designer"}
MONITORS = frozenset({"director", "manager", "supervisor", "modeler", "admin"})
ACTORS = frozenset({"director", "manager", "supervisor"})  # suspend/resume/terminate/retry/reassign, dashboard
TASK_VIEWERS = frozenset({"manager", "director"})  # the lane of analyse_root_cause, and the director
RELEASERS = TASK_VIEWERS | {"supervisor"}
WITHDRAWERS = frozenset({"manager", "supervisor"})  # withdraw / correct a case (issue 9)
SUPERVISORS = frozenset({"supervisor"})  # pause / resume the §4.6 clock
MANAGERS = frozenset({"manager"})  # register a returned spare part (§3.1)
SUPPLIER_KEEPERS = frozenset({"sales", "admin"})  # the supplier master (§5.5)
CLAIM_RAISERS = frozenset({"manager"})  # a supplier claim raised on a case (§5.5)
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@dataclass(frozen=True)
class Cell:
    """How to call one route and what each user must get."""

    path: str | Callable[[dict[str, Any], str], str]
    allowed: frozenset[str]
    ok: int
    denied: int = 403
    anonymous: int | None = None  # default: 302 to the sign-in page (web) or 401 (API)
    kwargs: dict[str, Any] | Callable[[str], dict[str, Any]] = field(default_factory=dict)

    def expected(self, user: str, api: bool) -> int:
        if user == ANONYMOUS:
            return self.anonymous if self.anonymous is not None else (401 if api else 302)
        return self.ok if user in self.allowed else self.denied


def only(users: frozenset[str], ok: int, path: Any, **kwargs: Any) -> Cell:
    return Cell(path, users, ok, kwargs=kwargs)


def public(status: int, path: Any, **kwargs: Any) -> Cell:
    return Cell(path, EVERYONE, status, anonymous=status, kwargs=kwargs)


def ctx_path(template: str) -> Callable[[dict[str, Any], str], str]:
    """A path filled from the shared objects and the caller's own task (`{own_task}`)."""
    return lambda ctx, user: template.format(**ctx, own_task=ctx["own_tasks"][user])


P = ctx_path
POLICY: dict[tuple[str, str], Cell] = {
    # --- public ---
    ("health.healthz", "GET"): public(200, "/healthz"),
    ("health.readyz", "GET"): public(200, "/readyz"),
    ("static", "GET"): public(200, "/static/css/app.css"),
    ("auth.login", "GET"): public(200, "/login"),
    ("auth.login_submit", "POST"): Cell(  # a wrong password per user name: 401, and no throttling in between
        "/login", EVERYONE, 401, anonymous=401, kwargs=lambda user: {"data": {"username": f"{user}-x", "password": "x"}}
    ),
    ("auth.switch_language", "POST"): public(302, "/lang/en", data={"next": "/"}),
    ("api.openapi", "GET"): public(200, "/api/v1/openapi.json"),
    ("api.issue_token", "POST"): public(422, "/api/v1/auth/token", json={}),
    # --- the customer's pages (issue 10 item 3): no sign-in; an unknown link is 404 for everyone ---
    ("portal.request_form", "GET"): public(200, "/request"),
    ("portal.request_submit", "POST"): public(422, "/request", data={}),
    ("portal.status", "GET"): public(404, "/status/not-a-link"),
    ("portal.survey", "GET"): public(404, "/survey/not-a-link"),
    ("portal.survey", "POST"): public(404, "/survey/not-a-link", data={}),
    # --- customer requests: managers handle them, supervisors and the director read them ---
    ("requests.index", "GET"): only(ACTORS, 200, "/requests"),
    ("requests.detail", "GET"): only(ACTORS, 404, "/requests/999999"),
    ("requests.file", "GET"): only(ACTORS, 404, "/requests/999999/files/0"),
    ("requests.register", "POST"): only(frozenset({"manager"}), 404, "/requests/999999/register", data={}),
    ("requests.decline", "POST"): only(frozenset({"manager"}), 404, "/requests/999999/decline", data={}),
    ("requests.send_link", "POST"): only(
        frozenset({"manager", "supervisor"}), 302, P("/cases/{case_id}/customer-link"), data={"email": "not-mail"}
    ),
    ("requests.revoke", "POST"): only(
        frozenset({"manager", "supervisor"}), 302, P("/cases/{case_id}/customer-links/revoke")
    ),
    # --- every signed-in user ---
    ("tasks.inbox", "GET"): only(EVERYONE, 200, "/"),
    ("cases.index", "GET"): only(EVERYONE, 200, "/cases"),
    ("cases.new", "GET"): only(EVERYONE, 200, "/cases/new"),
    ("cases.lookup_sales_orders", "GET"): only(EVERYONE, 200, "/cases/lookup/sales-orders?customer=C001"),
    ("cases.new", "POST"): only(EVERYONE, 422, "/cases/new", data={"kind": "nonsense"}),
    ("api.create_case", "POST"): only(EVERYONE, 422, "/api/v1/cases", json={}),
    ("api.list_tasks", "GET"): only(EVERYONE, 200, "/api/v1/tasks"),
    ("api.list_definitions", "GET"): only(EVERYONE, 200, "/api/v1/process-definitions"),
    ("api.startable", "GET"): only(EVERYONE, 200, "/api/v1/process-definitions/startable"),
    ("processes.index", "GET"): only(EVERYONE, 200, "/processes/"),
    ("notices.index", "GET"): only(EVERYONE, 200, "/notices/"),
    ("notices.read", "POST"): only(EVERYONE, 302, "/notices/read"),
    # the inbox's saved views and bulk actions (issue 11 item 3): a bad request changes nothing and comes back
    ("tasks.save_view", "POST"): only(EVERYONE, 302, "/inbox/views", data={"name": "", "query": "tab=mine"}),
    ("tasks.delete_view", "POST"): only(EVERYONE, 404, "/inbox/views/999999/delete"),
    ("tasks.bulk", "POST"): only(EVERYONE, 302, "/tasks/bulk", data={"action": "claim"}),
    # the case process starts by registration only: everyone signed in is told so (409) before any role check
    ("api.start", "POST"): only(EVERYONE, 409, "/api/v1/process-definitions/after_sales_case/instances", json={}),
    ("processes.start", "GET"): only(EVERYONE, 409, "/processes/after_sales_case/start"),
    ("processes.start_submit", "POST"): only(EVERYONE, 409, "/processes/after_sales_case/start", data={}),
    ("api.warranty_policies", "GET"): only(EVERYONE, 200, "/api/v1/products/P-CNC500/warranty-policies"),
    # --- cases: the case-reading roles ---
    ("cases.detail", "GET"): only(READERS, 200, P("/cases/{case_id}")),
    ("cases.print_csi", "GET"): only(READERS, 200, P("/cases/{case_id}/print")),
    ("cases.upload", "POST"): only(READERS, 422, P("/cases/{case_id}/attachments"), data={"kind": "photo"}),
    ("cases.comment", "POST"): only(READERS, 422, P("/cases/{case_id}/comments"), data={"comment": ""}),
    ("cases.download", "GET"): only(READERS, 200, P("/cases/{case_id}/attachments/{attachment_id}")),
    ("cases.preview", "GET"): only(READERS, 200, P("/cases/{case_id}/attachments/{attachment_id}/preview")),
    ("records.detail", "GET"): only(READERS, 302, P("/records/csi/{csi_no}")),  # a CSI opens its case page
    # no WO exists here: 404 for everyone signed in (the print's own test checks the readers on a real WO)
    ("records.print_record", "GET"): only(EVERYONE, 404, "/records/wo/WO-2000-000001/print"),
    ("api.get_case", "GET"): only(READERS, 200, P("/api/v1/cases/{case_id}")),
    ("api.list_cases", "GET"): only(READERS, 200, "/api/v1/cases"),
    ("api.signed_original", "POST"): only(WITHDRAWERS, 422, P("/api/v1/cases/{case_id}/signed-original"), json={}),
    ("cases.signed_original", "POST"): only(WITHDRAWERS, 422, P("/cases/{case_id}/signed-original"), data={}),
    # §3.1 spare part returns: the service manager registers one; readers of the case read it
    ("api.create_part_return", "POST"): only(MANAGERS, 422, P("/api/v1/cases/{case_id}/part-returns"), json={}),
    ("cases.part_return", "POST"): only(MANAGERS, 422, P("/cases/{case_id}/part-returns"), data={}),
    ("api.read_part_return", "GET"): only(READERS, 200, P("/api/v1/part-returns/{rt_no}")),
    ("api.withdraw", "POST"): only(WITHDRAWERS, 422, P("/api/v1/cases/{case_id}/withdraw"), json={}),
    ("cases.withdraw", "POST"): only(WITHDRAWERS, 422, P("/cases/{case_id}/withdraw"), data={}),
    ("api.correct_case", "PATCH"): only(WITHDRAWERS, 422, P("/api/v1/cases/{case_id}"), json={}),
    ("cases.correct", "GET"): only(READERS, 200, P("/cases/{case_id}/correct")),
    ("api.pause_sla_clock", "POST"): only(SUPERVISORS, 422, P("/api/v1/cases/{case_id}/sla/pause"), json={}),
    ("api.resume_sla_clock", "POST"): only(SUPERVISORS, 409, P("/api/v1/cases/{case_id}/sla/resume"), json={}),
    ("cases.sla_clock", "POST"): only(SUPERVISORS, 422, P("/cases/{case_id}/sla/pause"), data={}),
    ("cases.correct", "POST"): only(WITHDRAWERS, 422, P("/cases/{case_id}/correct"), data={}),
    ("api.get_attachments", "GET"): only(READERS, 200, P("/api/v1/cases/{case_id}/attachments")),
    ("api.upload_attachment", "POST"): only(READERS, 422, P("/api/v1/cases/{case_id}/attachments"), data={}),
    ("api.get_record", "GET"): only(READERS, 200, P("/api/v1/records/csi/{csi_no}")),
    ("records.archive_search", "GET"): only(ARCHIVE_READERS, 200, "/archives"),
    ("records.archive", "GET"): only(ARCHIVE_READERS, 200, "/archives/CNC500-0001"),
    ("api.get_archive", "GET"): only(ARCHIVE_READERS, 200, "/api/v1/archives/CNC500-0001"),
    # --- tasks: the lane (service_manager) works them; the director looks; the supervisor gives them back ---
    ("tasks.task_form", "GET"): only(TASK_VIEWERS, 200, P("/tasks/{task_id}")),
    ("tasks.task_submit", "POST"): only(frozenset({"manager"}), 422, P("/tasks/{task_id}"), data={}),
    ("api.get_task", "GET"): only(TASK_VIEWERS, 200, P("/api/v1/tasks/{task_id}")),
    ("api.complete", "POST"): only(frozenset({"manager"}), 422, P("/api/v1/tasks/{task_id}/complete"), json={}),
    ("tasks.claim", "POST"): only(frozenset({"manager"}), 302, P("/tasks/{own_task}/claim")),
    ("tasks.release", "POST"): only(RELEASERS, 302, P("/tasks/{own_task}/release")),
    ("api.claim", "POST"): only(frozenset({"manager"}), 200, P("/api/v1/tasks/{own_task}/claim")),
    ("api.release", "POST"): only(RELEASERS, 200, P("/api/v1/tasks/{own_task}/release")),
    # --- work orders: the service supervisor (§2.6); the WO does not exist, so the supervisor gets 404 / 422 ---
    ("records.assign", "POST"): only(frozenset({"supervisor"}), 404, "/work-orders/WO-2000-000001/assign", data={}),
    ("api.assign", "POST"): only(frozenset({"supervisor"}), 422, "/api/v1/work-orders/WO-2000-000001/assign", json={}),
    ("api.cancel", "POST"): only(WITHDRAWERS, 404, "/api/v1/work-orders/WO-2000-000001/cancel", json={}),
    ("api.reschedule", "POST"): only(WITHDRAWERS, 404, "/api/v1/work-orders/WO-2000-000001/reschedule", json={}),
    ("records.cancel_wo", "POST"): only(WITHDRAWERS, 404, "/work-orders/WO-2000-000001/cancel", data={}),
    ("records.reschedule_wo", "POST"): only(WITHDRAWERS, 404, "/work-orders/WO-2000-000001/reschedule", data={}),
    # --- monitoring: service director, manager, supervisor; process designers and admins look ---
    ("monitor.instances", "GET"): only(MONITORS, 200, "/monitor/instances"),
    ("monitor.instance", "GET"): only(MONITORS, 200, P("/monitor/instances/{instance_id}")),
    ("monitor.incident_list", "GET"): only(MONITORS, 200, "/monitor/incidents"),
    ("monitor.heatmap", "GET"): only(MONITORS, 200, "/monitor/heatmap"),
    ("monitor.diagram_xml", "GET"): only(
        MONITORS, 200, P("/monitor/versions/{version_id}/diagrams/after_sales_case.bpmn")
    ),
    ("monitor.act", "POST"): only(ACTORS, 422, P("/monitor/instances/{instance_id}/suspend"), data={}),
    ("monitor.reassign", "POST"): only(ACTORS, 422, P("/monitor/tasks/{task_id}/reassign"), data={}),
    ("api.instances", "GET"): only(MONITORS, 200, "/api/v1/instances"),
    ("api.instance", "GET"): only(MONITORS, 200, P("/api/v1/instances/{instance_id}")),
    **{
        ("api." + action, "POST"): only(ACTORS, 422, P(f"/api/v1/instances/{{instance_id}}/{action}"), json={})
        for action in ("suspend", "resume", "terminate", "retry")
    },
    ("api.reassign", "POST"): only(ACTORS, 422, P("/api/v1/tasks/{task_id}/reassign"), json={}),
    ("dashboard.index", "GET"): only(ACTORS, 200, "/dashboard"),
    ("dashboard.data", "GET"): only(ACTORS, 200, "/dashboard/data"),
    ("dashboard.listing", "GET"): only(ACTORS, 200, "/dashboard/lists/sla-results"),
    # --- master data: product design (§2.4, §6.1); contracts: service managers and admins (§3.2) ---
    ("api.set_warranty_policy", "POST"): only(
        frozenset({"designer"}), 422, "/api/v1/products/P-CNC500/warranty-policies", json={}
    ),
    ("api.set_syllabus", "POST"): only(frozenset({"designer"}), 422, "/api/v1/products/P-CNC500/syllabus", json={}),
    ("api.add_service_contract", "POST"): only(
        frozenset({"manager", "admin"}), 422, "/api/v1/service-contracts", json={}
    ),
    # --- supplier claims (§5.5): Sales and admins keep the supplier master; the service manager raises a claim ---
    ("api.list_suppliers", "GET"): only(EVERYONE, 200, "/api/v1/suppliers"),
    ("api.create_supplier", "POST"): only(SUPPLIER_KEEPERS, 422, "/api/v1/suppliers", json={}),
    ("api.update_supplier", "PATCH"): only(SUPPLIER_KEEPERS, 422, "/api/v1/suppliers/S-BRG", json={"email": "x"}),
    ("admin.suppliers", "GET"): only(SUPPLIER_KEEPERS, 200, "/admin/suppliers"),
    ("admin.create_supplier", "POST"): only(SUPPLIER_KEEPERS, 422, "/admin/suppliers", data={}),
    ("admin.supplier", "GET"): only(SUPPLIER_KEEPERS, 200, "/admin/suppliers/S-BRG"),
    ("admin.edit_supplier", "POST"): only(SUPPLIER_KEEPERS, 422, "/admin/suppliers/S-BRG", data={}),
    ("api.case_supplier_claims", "GET"): only(READERS, 200, P("/api/v1/cases/{case_id}/supplier-claims")),
    ("api.raise_supplier_claim", "POST"): only(
        CLAIM_RAISERS, 422, P("/api/v1/cases/{case_id}/supplier-claims"), json={}
    ),
    ("cases.raise_claim", "POST"): only(CLAIM_RAISERS, 422, P("/cases/{case_id}/supplier-claims"), data={}),
    # --- process design: process designers only ---
    ("designer.index", "GET"): only(frozenset({"modeler"}), 200, "/designer/"),
    ("designer.new", "GET"): only(frozenset({"modeler"}), 200, "/designer/new"),
    ("designer.modeler", "GET"): only(frozenset({"modeler"}), 200, "/designer/process/after_sales_case"),
    ("designer.history", "GET"): only(frozenset({"modeler"}), 200, "/designer/process/after_sales_case/history"),
    ("designer.diff", "GET"): only(frozenset({"modeler"}), 200, "/designer/process/after_sales_case/diff"),
    ("designer.migration", "GET"): only(frozenset({"modeler"}), 200, "/designer/process/after_sales_case/migration"),
    ("designer.migrate", "POST"): only(
        frozenset({"modeler"}), 422, "/designer/process/after_sales_case/migration", data={}
    ),
    ("designer.decision", "GET"): only(frozenset({"modeler"}), 200, "/designer/decisions/service_billing.dmn"),
    ("designer.form", "GET"): only(frozenset({"modeler"}), 200, "/designer/forms/review_csi.schema.json"),
    ("designer.form_preview", "POST"): only(frozenset({"modeler"}), 422, "/designer/forms/preview", json={}),
    ("designer.validate", "POST"): only(frozenset({"modeler"}), 422, "/designer/validate", json={}),
    ("designer.deploy", "POST"): only(frozenset({"modeler"}), 422, "/designer/deploy", json={}),
    ("designer.bundle_file", "GET"): only(
        frozenset({"modeler"}), 200, P("/designer/files/{bundle_id}/after_sales_case.bpmn")
    ),
    ("designer.download", "GET"): only(
        frozenset({"modeler"}), 200, "/designer/process/after_sales_case/versions/1/download"
    ),
    ("designer.download_zip", "GET"): only(
        frozenset({"modeler"}), 200, "/designer/process/after_sales_case/versions/1/bundle.zip"
    ),
    ("api.deploy", "POST"): only(frozenset({"modeler"}), 422, "/api/v1/process-definitions", data={}),
    ("api.retire", "POST"): only(
        frozenset({"modeler"}), 422, "/api/v1/process-definitions/after_sales_case/retire", json={}
    ),
    ("designer.retire", "POST"): only(
        frozenset({"modeler"}), 302, "/designer/process/after_sales_case/retire", data={}
    ),
    ("designer.repository_file", "GET"): only(
        frozenset({"modeler"}), 200, "/designer/files/current/after_sales_case.bpmn"
    ),
    ("designer.import_page", "GET"): only(frozenset({"modeler"}), 200, "/designer/import"),
    ("designer.import_post", "POST"): only(frozenset({"modeler"}), 422, "/designer/import", data={}),
    # --- user administration: admins only ---
    ("admin.users", "GET"): only(frozenset({"admin"}), 200, "/admin/users"),
    ("admin.create", "POST"): only(frozenset({"admin"}), 422, "/admin/users", data={}),
    ("admin.user", "GET"): only(frozenset({"admin"}), 200, "/admin/users/target"),
    ("admin.roles", "POST"): only(frozenset({"admin"}), 422, "/admin/users/target/roles", data={}),
    ("admin.password", "POST"): only(frozenset({"admin"}), 422, "/admin/users/target/password", data={}),
    ("admin.active", "POST"): only(frozenset({"admin"}), 302, "/admin/users/target/active", data={"active": "0"}),
    ("admin.revoke", "POST"): only(frozenset({"admin"}), 302, "/admin/users/target/revoke"),
    ("admin.email", "POST"): only(frozenset({"admin"}), 422, "/admin/users/target/email", data={"email": "x"}),
    ("admin.outbox_page", "GET"): only(frozenset({"admin"}), 200, "/admin/outbox"),
    ("admin.send_again", "POST"): only(frozenset({"admin"}), 404, "/admin/outbox/999999/send-again"),
    # --- last: these end the caller's session or token ---
    ("api.revoke_token", "POST"): only(EVERYONE, 200, "/api/v1/auth/revoke"),
    ("auth.logout", "POST"): public(302, "/logout"),
}


def register(client: Any, headers: dict[str, str]) -> dict[str, Any]:
    response = client.post("/api/v1/cases", json=QUALITY_COMPLAINT, headers=headers)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def first_task(client: Any, headers: dict[str, str], case_id: int) -> str:
    tasks = client.get(f"/api/v1/tasks?case_id={case_id}", headers=headers).get_json()
    return str(next(t["id"] for t in tasks if t["bpmn_id"] == "analyse_root_cause"))


@pytest.fixture
def world(app, session, api):
    """One case with its first task, an attachment and its instance; one more task per user for claim/release."""
    from engine.records.process import ProcessVersion

    create_user(session, "target", "target-pass-2027", ["sales"])
    version = session.query(ProcessVersion).filter_by(process_id="after_sales_case").one()
    session.commit()
    client = app.test_client()
    client.environ_base["wsgi.url_scheme"] = "https"
    manager = api("manager").headers
    case = register(client, manager)
    upload = {"file": (io.BytesIO(PDF), "feedback.pdf"), "kind": "customer_feedback"}
    attached = client.post(f"/api/v1/cases/{case['id']}/attachments", data=upload, headers=manager)
    assert attached.status_code == 201
    part = {"part_no": "P-SPINDLE", "quantity": 1, "remedy": "exchange", "reason": "异响"}
    returned = client.post(f"/api/v1/cases/{case['id']}/part-returns", json=part, headers=manager)
    assert returned.status_code == 201, returned.get_json()
    own_tasks = {}
    for user in [*EVERYONE, ANONYMOUS]:
        own_tasks[user] = first_task(client, manager, register(client, manager)["id"])
    return {
        "case_id": case["id"],
        "csi_no": case["csi_no"],
        "instance_id": case["process_instance_id"],
        "task_id": first_task(client, manager, case["id"]),
        "attachment_id": attached.get_json()["id"],
        "version_id": version.id,
        "bundle_id": version.bundle_id,
        "own_tasks": own_tasks,
        "rt_no": returned.get_json()["rt_no"],
    }


def signed_in_client(app: Any, user: str) -> tuple[Any, dict[str, str]]:
    client = app.test_client()
    client.environ_base["wsgi.url_scheme"] = "https"
    if user == ANONYMOUS:
        return client, {}
    token = csrf_from(client.get("/login").get_data(as_text=True))
    assert (
        client.post("/login", data={"username": user, "password": DEMO_PASSWORD, "csrf_token": token}).status_code
        == 302
    )
    issued = client.post("/api/v1/auth/token", json={"username": user, "password": DEMO_PASSWORD})
    return client, {"Authorization": f"Bearer {issued.get_json()['token']}"}


def test_every_route_for_every_role(app, world):
    app.config["WTF_CSRF_ENABLED"] = False  # CSRF has its own test; here every form post reaches its view
    routes = {
        (rule.endpoint, method) for rule in app.url_map.iter_rules() for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    assert routes - POLICY.keys() == set(), "routes without an authorization decision"
    assert POLICY.keys() - routes == set(), "decisions for routes that no longer exist"
    users = [*sorted(EVERYONE), ANONYMOUS]
    unexpected: list[str] = []
    for user in users:
        client, bearer = signed_in_client(app, user)
        for (endpoint, method), cell in POLICY.items():
            path = cell.path(world, user) if callable(cell.path) else cell.path
            api = path.startswith("/api/")
            kwargs = cell.kwargs(user) if callable(cell.kwargs) else cell.kwargs
            response = client.open(path, method=method, headers=bearer if api else {}, **kwargs)
            response.close()
            expected = cell.expected(user, api)
            if response.status_code != expected:
                unexpected.append(
                    f"{user:10} {method:4} {path} ({endpoint}): {response.status_code}, expected {expected}"
                )
    cells = len(POLICY) * len(users)
    print(f"SECURITY authz routes={len(POLICY)} roles={len(users)} cells={cells} unexpected={len(unexpected)}")
    assert unexpected == [], "\n".join(unexpected)
