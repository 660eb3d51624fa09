"""Read model of a case's document chain (§3.1, §5–§6): CSI → service SOs, WOs → PSRs → zero-price POs, QAHRC0722C,
QAHRC0807C and supplier claims, plus training plans and spare-part returns (with their exchange SO), each linked both
ways by number.

One loader reads every record of a CSI (one query per record type); `document_chain` turns them into JSON-ready
views with `edges` for drawing the chain, and `record_view` returns one record from the same views, so the case
page, the record pages and the API always agree on the links.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from datetime import datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from engine.errors import NotFoundError
from engine.errors import Problem
from engine.records.csi import CSI
from engine.records.part_return import PartReturn
from engine.records.psr import PSR
from engine.records.quality import QualityFeedback
from engine.records.quality import SatisfactionSurvey
from engine.records.service_purchase import ServicePurchase
from engine.records.service_sales_order import ServiceSalesOrder
from engine.records.service_sales_order import ServiceSOType
from engine.records.supplier_claim import SupplierClaim
from engine.records.training_plan import TrainingPlan
from engine.records.work_order import WorkOrder

# API record type → (model, number column); the chain key of each type is its type with '-' as '_'.
RECORD_MODELS: dict[str, tuple[type[Any], str]] = {
    "so": (ServiceSalesOrder, "so_no"),
    "wo": (WorkOrder, "wo_no"),
    "psr": (PSR, "psr_no"),
    "po": (ServicePurchase, "po_no"),
    "quality-feedback": (QualityFeedback, "qf_no"),
    "survey": (SatisfactionSurvey, "sv_no"),
    "supplier-claim": (SupplierClaim, "sc_no"),
    "training-plan": (TrainingPlan, "tp_no"),
    "part-return": (PartReturn, "rt_no"),
}
RECORD_TYPES: tuple[str, ...] = ("csi", *RECORD_MODELS)
CHAIN_KEYS = {kind: kind.replace("-", "_") for kind in RECORD_MODELS}
WO_FIELDS = tuple(
    "kind status site overseas_site planned_date engineers temporary_staff rounds labour_hours labour_rate billing"
    " fee_amount formalities created_at created_by completed_at cancelled_at cancel_reason".split()
)
PSR_FIELDS = tuple(
    "round_no engineer visit_date labour_hours work_performed parts_used outcome old_parts quality_problem_found"
    " customer_opinions satisfaction customer_signed_by created_at".split()
)
CSI_FIELDS = tuple(
    "status kind service_plan billing cost_bearer billing_override_reason signed_original_location"
    " archive_location closing_notes closed_at serial_no".split()
)


def json_value(value: Any) -> Any:
    """A record value as JSON: money and hours as text with two decimals, dates and times in ISO 8601."""
    if isinstance(value, Decimal):
        return str(value.quantize(Decimal("0.01")))
    if isinstance(value, date | datetime):
        return value.isoformat()
    return value


def ref(record_type: str, number: str | None) -> dict[str, str] | None:
    """A link to a record: its type, number and API address (None when there is no such record)."""
    if not number:
        return None
    return {"type": record_type, "number": number, "api": f"/api/v1/records/{record_type}/{number}"}


@dataclass
class _Loaded:
    """Every record of one CSI, in creation order."""

    csi: CSI
    so: list[ServiceSalesOrder]
    wo: list[WorkOrder]
    psr: list[PSR]
    po: list[ServicePurchase]
    quality_feedback: list[QualityFeedback]
    survey: list[SatisfactionSurvey]
    supplier_claim: list[SupplierClaim]
    training_plan: list[TrainingPlan]
    part_return: list[PartReturn]

    def number(self, model: type[Any], record_id: int | None) -> str | None:
        """The number of a loaded record by id (None when not set)."""
        if record_id is None:
            return None
        kind = next(k for k, (m, _col) in RECORD_MODELS.items() if m is model)
        column = RECORD_MODELS[kind][1]
        found = next((r for r in getattr(self, CHAIN_KEYS[kind]) if r.id == record_id), None)
        return str(getattr(found, column)) if found is not None else None

    def refs(self, kind: str, link: str, record_id: int) -> list[dict[str, str]]:
        """Links to the loaded records of one type whose `link` column (e.g. `wo_id`) points at `record_id`."""
        column = RECORD_MODELS[kind][1]
        found = [x for x in getattr(self, CHAIN_KEYS[kind]) if getattr(x, link) == record_id]
        return [r for r in (ref(kind, getattr(x, column)) for x in found) if r]


def _load(session: Session, csi: CSI) -> _Loaded:
    def rows(model: type[Any]) -> list[Any]:
        return list(session.scalars(sa.select(model).where(model.csi_id == csi.id).order_by(model.id)))

    return _Loaded(
        csi=csi,
        so=rows(ServiceSalesOrder),
        wo=rows(WorkOrder),
        psr=rows(PSR),
        po=rows(ServicePurchase),
        quality_feedback=rows(QualityFeedback),
        survey=rows(SatisfactionSurvey),
        supplier_claim=rows(SupplierClaim),
        training_plan=rows(TrainingPlan),
        part_return=rows(PartReturn),
    )


def _fields(record: Any, names: Iterable[str]) -> dict[str, Any]:
    return {name: json_value(getattr(record, name)) for name in names}


def _so(chain: _Loaded, order: ServiceSalesOrder) -> dict[str, Any]:
    view = _fields(order, ("so_type", "billing", "amount", "lines", "remarks", "created_at", "created_by"))
    exchange = next((r for r in chain.part_return if r.exchange_so_id == order.id), None)
    return {
        **_head(chain, "so", order.so_no),
        **view,
        "wo": ref("wo", chain.number(WorkOrder, order.wo_id)),
        "part_return": ref("part-return", exchange.rt_no if exchange else None),  # the return it replaces (§3.1)
    }


def _wo(chain: _Loaded, work_order: WorkOrder) -> dict[str, Any]:
    names = WO_FIELDS
    fee = next((o for o in chain.so if o.wo_id == work_order.id and o.so_type == ServiceSOType.SERVICE_FEE), None)
    return {
        **_head(chain, "wo", work_order.wo_no),
        **_fields(work_order, names),
        "labour_cost": json_value(work_order.labour_cost),
        "fee_so": ref("so", fee.so_no if fee else None),
        "psr": chain.refs("psr", "wo_id", work_order.id),
        "po": chain.refs("po", "wo_id", work_order.id),
        "quality_feedback": chain.refs("quality-feedback", "wo_id", work_order.id),
        "survey": chain.refs("survey", "wo_id", work_order.id),
        "supplier_claim": chain.refs("supplier-claim", "wo_id", work_order.id),
        "training_plan": chain.refs("training-plan", "wo_id", work_order.id),
    }


def _psr(chain: _Loaded, psr: PSR) -> dict[str, Any]:
    names = PSR_FIELDS
    return {
        **_head(chain, "psr", psr.psr_no),
        **_fields(psr, names),
        "wo": ref("wo", chain.number(WorkOrder, psr.wo_id)),
        "po": chain.refs("po", "psr_id", psr.id),
        "quality_feedback": chain.refs("quality-feedback", "psr_id", psr.id),
        "survey": chain.refs("survey", "psr_id", psr.id),
        "supplier_claim": chain.refs("supplier-claim", "psr_id", psr.id),
    }


def _po(chain: _Loaded, purchase: ServicePurchase) -> dict[str, Any]:
    names = ("prj_no", "purpose", "lines", "total_price", "remarks", "created_at", "created_by")
    return {
        **_head(chain, "po", purchase.po_no),
        **_fields(purchase, names),
        "wo": ref("wo", chain.number(WorkOrder, purchase.wo_id)),  # PRJ# = the WO number (§5.5)
        "psr": ref("psr", chain.number(PSR, purchase.psr_id)),
    }


def _visit_links(chain: _Loaded, record: QualityFeedback | SatisfactionSurvey | SupplierClaim) -> dict[str, Any]:
    return {"wo": ref("wo", chain.number(WorkOrder, record.wo_id)), "psr": ref("psr", chain.number(PSR, record.psr_id))}


def _qf(chain: _Loaded, feedback: QualityFeedback) -> dict[str, Any]:
    names = ("form_code", "status", "description", "filed_by", "filed_at", "investigation", "corrective_action")
    view = _fields(feedback, (*names, "reviewed_by", "closed_at"))
    return {**_head(chain, "quality-feedback", feedback.qf_no), **view, **_visit_links(chain, feedback)}


def _survey(chain: _Loaded, survey: SatisfactionSurvey) -> dict[str, Any]:
    names = ("form_code", "satisfaction", "dissatisfied", "opinions", "filed_by", "filed_at")
    return {**_head(chain, "survey", survey.sv_no), **_fields(survey, names), **_visit_links(chain, survey)}


def _claim(chain: _Loaded, claim: SupplierClaim) -> dict[str, Any]:
    names: tuple[str, ...] = ("status", "supplier", "claim_amount", "notes", "handled_by", "created_at", "closed_at")
    names += (
        "csi_snapshot",
        "parts",
        "reason",
        "raised_by",
        "reference_sent",
        "submitted_at",
        "accepted_amount",
        "rejection_reason",
    )
    names += ("answered_at", "recovered_amount", "settled_on", "settlement_kind", "settlement_reference")
    return {**_head(chain, "supplier-claim", claim.sc_no), **_fields(claim, names), **_visit_links(chain, claim)}


def _plan(chain: _Loaded, plan: TrainingPlan) -> dict[str, Any]:
    names = ("location", "planned_date", "trainees", "modules", "syllabus_version", "status", "delivered_date")
    view = _fields(plan, (*names, "attendance", "evaluation", "visit_record", "planned_by", "created_at"))
    return {**_head(chain, "training-plan", plan.tp_no), **view, "wo": ref("wo", chain.number(WorkOrder, plan.wo_id))}


RETURN_FIELDS = tuple(
    "status origin_so_no part_no quantity remedy reason registered_by registered_at received_on received_by"
    " received_at condition condition_notes inspected_by inspected_at finding responsibility decision refusal_reason"
    " credit_amount credit_note_ref settlement_notes settled_by closed_at".split()
)


def _return(chain: _Loaded, record: PartReturn) -> dict[str, Any]:
    """§3.1: a returned spare part with its steps and, once exchanged, the replacement's parts SO (§5.2)."""
    return {
        **_head(chain, "part-return", record.rt_no),
        **_fields(record, RETURN_FIELDS),
        "exchange_so": ref("so", record.exchange_so_no),
        "steps": return_steps(record),
    }


def return_steps(record: PartReturn) -> list[dict[str, Any]]:
    """The return's steps so far (registered, received, inspected, settled): status, by whom, when."""
    steps: list[tuple[str, str | None, datetime | None]] = [("registered", record.registered_by, record.registered_at)]
    steps.append(("received", record.received_by, record.received_at))
    steps.append(("inspected", record.inspected_by, record.inspected_at))
    if record.closed_at is not None:
        steps.append((record.status, record.settled_by, record.closed_at))
    return [{"step": name, "by": by, "at": json_value(at)} for name, by, at in steps if at is not None]


def _head(chain: _Loaded, record_type: str, number: str) -> dict[str, Any]:
    return {"type": record_type, "number": number, "case_id": chain.csi.id, "csi": ref("csi", chain.csi.csi_no)}


VIEWS: dict[str, Callable[[_Loaded, Any], dict[str, Any]]] = {
    "so": _so,
    "wo": _wo,
    "psr": _psr,
    "po": _po,
    "quality-feedback": _qf,
    "survey": _survey,
    "supplier-claim": _claim,
    "training-plan": _plan,
    "part-return": _return,
}


def document_chain(session: Session, csi: CSI) -> dict[str, Any]:
    """The case's whole document chain (JSON-ready): the CSI's billing and filing facts, every record with its
    links both ways, `edges` (from → to with the regulation clause) and labour/fee/parts totals."""
    chain = _load(session, csi)
    out: dict[str, Any] = {"csi": _csi_head(csi)}
    for kind, key in CHAIN_KEYS.items():
        out[key] = [VIEWS[kind](chain, record) for record in getattr(chain, key)]
    out["edges"] = _edges(chain)
    out["totals"] = _totals(chain)
    return out


def _csi_head(csi: CSI) -> dict[str, Any]:
    names: tuple[str, ...] = ("status", "kind", "service_plan", "billing", "cost_bearer", "billing_override_reason")
    names += ("signed_original_location", "archive_location", "closing_notes", "closed_at", "serial_no")
    return {**(ref("csi", csi.csi_no) or {}), "case_id": csi.id, **_fields(csi, names)}


def _edges(chain: _Loaded) -> list[dict[str, str]]:
    """from → to links of the chain, each with its relation and the clause that requires it."""
    csi_no = chain.csi.csi_no
    edges: list[tuple[str | None, str, str, str]] = []
    exchanges = {r.exchange_so_id: r.rt_no for r in chain.part_return if r.exchange_so_id is not None}
    for order in chain.so:
        wo_no = chain.number(WorkOrder, order.wo_id)
        if order.id in exchanges:
            edges.append((exchanges[order.id], order.so_no, "exchange_so", "§3.1, §5.2"))
        else:
            edges.append((wo_no, order.so_no, "fee_so", "§5.4") if wo_no else (csi_no, order.so_no, "parts_so", "§5.2"))
    edges += [(csi_no, r.rt_no, "part_return", "§3.1") for r in chain.part_return]
    edges += [(csi_no, w.wo_no, "work_order", "§5.3") for w in chain.wo]
    edges += [(chain.number(WorkOrder, p.wo_id), p.psr_no, "visit", "§5.3") for p in chain.psr]
    for purchase in chain.po:
        parent = chain.number(PSR, purchase.psr_id) or purchase.prj_no
        edges.append((parent, purchase.po_no, "purchase", "§5.5"))
    for kind, relation, clause in (
        ("quality-feedback", "quality_feedback", "§5.6"),
        ("survey", "survey", "§5.7"),
        ("supplier-claim", "supplier_claim", "§5.5"),
    ):
        column = RECORD_MODELS[kind][1]
        for item in getattr(chain, CHAIN_KEYS[kind]):
            parent = chain.number(PSR, item.psr_id) or chain.number(WorkOrder, item.wo_id) or csi_no
            edges.append((parent, getattr(item, column), relation, clause))
    for plan in chain.training_plan:
        edges.append((csi_no, plan.tp_no, "training_plan", "§6.1"))
        if plan.wo_id is not None:
            edges.append((plan.tp_no, chain.number(WorkOrder, plan.wo_id) or "", "training_wo", "§6.3"))
    return [{"from": a, "to": b, "relation": r, "clause": c} for a, b, r, c in edges if a and b]


def _totals(chain: _Loaded) -> dict[str, str]:
    hours = sum((Decimal(w.labour_hours or 0) for w in chain.wo), Decimal("0"))
    cost = sum((w.labour_cost for w in chain.wo), Decimal("0"))
    fees = sum((o.amount for o in chain.so if o.so_type == ServiceSOType.SERVICE_FEE), Decimal("0"))
    parts = sum((o.amount for o in chain.so if o.so_type == ServiceSOType.PARTS_ONLY), Decimal("0"))
    return {
        "labour_hours": json_value(hours),
        "labour_cost": json_value(cost),
        "fee_amount": json_value(fees),
        "parts_amount": json_value(parts),
    }


def find_csi_of(session: Session, record_type: str, number: str) -> CSI:
    """The CSI a record belongs to (for the access check before showing the record).

    :raises NotFoundError: unknown type or number.
    """
    if record_type == "csi":
        csi = session.scalars(sa.select(CSI).where(CSI.csi_no == number)).first()
    else:
        record = _find(session, record_type, number)
        csi = session.get(CSI, record.csi_id)
    if csi is None:
        raise NotFoundError(Problem("record_missing", f"no CSI record numbered {number!r}", record=number))
    return csi


def _find(session: Session, record_type: str, number: str) -> Any:
    if record_type not in RECORD_MODELS:
        raise NotFoundError(
            Problem(
                "record_missing",
                f"unknown record type {record_type!r}; known: {', '.join(RECORD_TYPES)}",
                record=number,
            )
        )
    model, column = RECORD_MODELS[record_type]
    record = session.scalars(sa.select(model).where(getattr(model, column) == number)).first()
    if record is None:
        raise NotFoundError(Problem("record_missing", f"no {record_type} record numbered {number!r}", record=number))
    return record


def record_view(session: Session, record_type: str, number: str) -> dict[str, Any]:
    """One record by type and number with its links both ways; a CSI comes with its facts and whole chain.

    :raises NotFoundError: unknown type or number.
    """
    csi = find_csi_of(session, record_type, number)
    if record_type == "csi":
        return {**csi.facts(), "type": "csi", "number": csi.csi_no, "case_id": csi.id, **_chain_of(session, csi)}
    record = _find(session, record_type, number)
    chain = _load(session, csi)
    loaded = next(r for r in getattr(chain, CHAIN_KEYS[record_type]) if r.id == record.id)
    return VIEWS[record_type](chain, loaded)


def _chain_of(session: Session, csi: CSI) -> dict[str, Any]:
    chain = document_chain(session, csi)
    return {"records": {key: [r["number"] for r in chain[key]] for key in CHAIN_KEYS.values()}, "chain": chain}
