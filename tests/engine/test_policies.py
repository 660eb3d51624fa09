"""Warranty policies, contracts and syllabi (§2.4, §3.2, §6.1), the coverage of a new case, and the review check."""

from __future__ import annotations

from datetime import date
from datetime import datetime
from datetime import timedelta

import pytest
import sqlalchemy as sa
from dateutil.relativedelta import relativedelta

from engine.aftersales.policies.service import PolicyTerms
from engine.aftersales.policies.service import add_service_contract
from engine.aftersales.policies.service import coverage_for
from engine.aftersales.policies.service import current_syllabus
from engine.aftersales.policies.service import list_policies
from engine.aftersales.policies.service import policy_in_force
from engine.aftersales.policies.service import set_training_syllabus
from engine.aftersales.policies.service import set_warranty_policy
from engine.aftersales.review.billing import check_review_decision
from engine.errors import InvalidInputError
from engine.errors import PermissionDeniedError
from engine.records.master import Customer
from engine.records.master import Product
from engine.records.master import SalesOrder
from engine.records.policy import TrainingSyllabus
from engine.records.policy import WarrantyPolicy
from engine.records.timeline import TimelineEvent
from tests.helpers import register

MODULES = [
    {"code": "M1", "title": "安全操作", "hours": 4},
    {"code": "M2", "title": "日常保养", "hours": 2.5},
]


def product(session, code):
    return session.scalars(sa.select(Product).where(Product.code == code)).one()


@pytest.fixture(autouse=True)
def no_demo_policies(session):
    """These tests set policies and syllabi themselves: start without the demo ones."""
    session.execute(sa.delete(WarrantyPolicy))
    session.execute(sa.delete(TrainingSyllabus))
    session.execute(
        sa.delete(TimelineEvent).where(TimelineEvent.kind.like("policy.%") | TimelineEvent.kind.like("syllabus.%"))
    )
    session.commit()


def customer(session, code):
    return session.scalars(sa.select(Customer).where(Customer.code == code)).one()


def sales_order(session, so_no):
    return session.scalars(sa.select(SalesOrder).where(SalesOrder.so_no == so_no)).one()


def policy(session, actor, code="P-CNC500", **overrides):
    values = {"effective_from": date(2020, 1, 1), "warranty_months": 12, "scope": "整机三包", "archive_required": True}
    return set_warranty_policy(session, actor, code, **{**values, **overrides})


# ---- warranty policies (§2.4) -------------------------------------------------------------------------------


def test_designer_sets_versioned_policies_and_the_one_in_force_follows_the_date(session, user_named):
    designer = user_named("designer")
    first = policy(session, designer, effective_from=date(2020, 1, 1), warranty_months=12)
    second = policy(session, designer, effective_from="2024-06-01", warranty_months=36, scope="整机三包（延长）")
    session.commit()
    cnc = product(session, "P-CNC500")
    assert (first.version, second.version) == (1, 2) and second.set_by == "designer"
    assert policy_in_force(session, cnc, date(2024, 5, 31)) == PolicyTerms(12, True, "整机三包", 1)
    assert policy_in_force(session, cnc, date(2024, 6, 1)) == PolicyTerms(36, True, "整机三包（延长）", 2)
    assert policy_in_force(session, cnc, date(2030, 1, 1)).policy_version == 2
    kinds = session.scalars(sa.select(TimelineEvent.kind).where(TimelineEvent.kind == "policy.warranty_set"))
    assert len(list(kinds)) == 2  # who set the 三包期 and when is on record


def test_a_later_version_with_the_same_start_day_corrects_the_earlier_one(session, user_named):
    designer = user_named("designer")
    policy(session, designer, effective_from=date(2024, 1, 1), warranty_months=12)
    policy(session, designer, effective_from=date(2024, 1, 1), warranty_months=18)
    assert policy_in_force(session, product(session, "P-CNC500"), date(2024, 3, 1)).warranty_months == 18


def test_without_a_policy_the_product_defaults_apply_and_only_complete_equipment_needs_an_archive(session):
    on = date(2025, 1, 1)
    assert policy_in_force(session, product(session, "P-CNC500"), on) == PolicyTerms(24, True, "", None)
    assert policy_in_force(session, product(session, "P-TOOLKIT"), on) == PolicyTerms(12, False, "", None)
    assert policy_in_force(session, product(session, "P-SPINDLE"), on) == PolicyTerms(6, False, "", None)


def test_design_may_require_an_archive_for_a_tool_set(session, user_named):
    policy(session, user_named("designer"), "P-TOOLKIT", archive_required=True)
    assert policy_in_force(session, product(session, "P-TOOLKIT"), date(2025, 1, 1)).archive_required is True


def test_policy_before_its_first_day_is_not_in_force(session, user_named):
    policy(session, user_named("designer"), effective_from=date(2024, 1, 1), warranty_months=3)
    assert policy_in_force(session, product(session, "P-CNC500"), date(2023, 12, 31)).policy_version is None


@pytest.mark.parametrize("username", ["manager", "admin", "supervisor"])
def test_only_product_design_sets_policies(session, user_named, username):
    with pytest.raises(PermissionDeniedError, match="product_design"):
        policy(session, user_named(username))
    assert session.scalars(sa.select(WarrantyPolicy.id)).first() is None


def test_bad_policy_input_is_named_by_field(session, user_named):
    with pytest.raises(InvalidInputError) as caught:
        set_warranty_policy(
            session,
            user_named("designer"),
            "P-NOPE",
            effective_from="2024-13-01",
            warranty_months=True,  # a bool is not a number of months
            scope="  ",
            archive_required="yes",  # type: ignore[arg-type]
        )
    assert set(caught.value.fields) == {
        "product_code",
        "effective_from",
        "warranty_months",
        "scope",
        "archive_required",
    }


@pytest.mark.parametrize("months", [-1, 241, "12", 1.5])
def test_warranty_months_must_be_a_sensible_whole_number(session, user_named, months):
    with pytest.raises(InvalidInputError) as caught:
        policy(session, user_named("designer"), warranty_months=months)
    assert set(caught.value.fields) == {"warranty_months"}


def test_a_datetime_is_not_a_start_day(session, user_named):
    with pytest.raises(InvalidInputError) as caught:
        policy(session, user_named("designer"), effective_from=datetime(2024, 1, 1, 8, 0))
    assert set(caught.value.fields) == {"effective_from"}


def test_list_policies_by_product(session, user_named):
    designer = user_named("designer")
    policy(session, designer, "P-TOOLKIT")
    policy(session, designer, "P-CNC500")
    policy(session, designer, "P-CNC500", warranty_months=30)
    listed = [(p.product.code, p.version) for p in list_policies(session)]
    assert listed == [("P-CNC500", 1), ("P-CNC500", 2), ("P-TOOLKIT", 1)]
    assert [p.version for p in list_policies(session, "P-TOOLKIT")] == [1]
    assert list_policies(session, "P-NOPE") == []


# ---- coverage of a case (§3.2) ------------------------------------------------------------------------------


def cnc_case(session):
    """The demo's recent sale of CNC500-0001 to C001 (24-month default 三包期)."""
    order = sales_order(session, "SO-2025-0001")
    line = next(ln for ln in order.lines if ln.serial_no == "CNC500-0001")
    return customer(session, "C001"), order, line


def test_coverage_uses_the_policy_in_force_at_the_sale_date(session, user_named):
    c001, order, line = cnc_case(session)
    received = order.sale_date + timedelta(days=200)
    default = coverage_for(session, customer=c001, order=order, line=line, received_on=received)
    assert (default.coverage, default.policy_version, default.archive_required) == ("in_warranty", None, True)
    designer = user_named("designer")
    policy(session, designer, effective_from=order.sale_date - timedelta(days=1), warranty_months=6)
    policy(session, designer, effective_from=order.sale_date + timedelta(days=1), warranty_months=60)  # too late
    result = coverage_for(session, customer=c001, order=order, line=line, received_on=received)
    assert (result.coverage, result.policy_version, result.contract_no) == ("out_of_warranty", 1, None)
    assert result.warranty_until == order.sale_date + relativedelta(months=6)


def test_the_last_day_of_the_warranty_is_still_in_warranty(session):
    c001, order, line = cnc_case(session)
    until = coverage_for(session, customer=c001, order=order, line=line, received_on=order.sale_date).warranty_until
    assert until is not None
    on_last_day = coverage_for(session, customer=c001, order=order, line=line, received_on=until)
    day_after = coverage_for(session, customer=c001, order=order, line=line, received_on=until + timedelta(days=1))
    assert (on_last_day.coverage, day_after.coverage) == ("in_warranty", "out_of_warranty")


def test_coverage_is_unknown_without_the_sold_product(session):
    c001, order, _line = cnc_case(session)
    result = coverage_for(session, customer=c001, order=order, line=None, received_on=date.today())
    assert (result.coverage, result.warranty_until, result.archive_required) == ("unknown", None, False)
    no_sale = coverage_for(session, customer=c001, order=None, line=None, received_on=date.today())
    assert no_sale.coverage == "unknown"


def test_a_contract_valid_on_the_receipt_day_covers_the_case(session, user_named):
    c001, order, line = cnc_case(session)
    today = date.today()
    add_service_contract(
        session,
        user_named("manager"),
        contract_no="SC-2026-001",
        customer_code="C001",
        valid_from=today - timedelta(days=30),
        valid_to=today + timedelta(days=30),
        terms="年度维保合同：含两次现场服务",
    )
    result = coverage_for(session, customer=c001, order=order, line=line, received_on=today)
    assert (result.coverage, result.contract_no) == ("contract", "SC-2026-001")
    assert result.warranty_until is not None  # the warranty is still shown beside the contract
    no_sale = coverage_for(session, customer=c001, order=None, line=None, received_on=today)
    assert no_sale.coverage == "contract"  # a customer-wide contract needs no SO#
    later = coverage_for(session, customer=c001, order=order, line=line, received_on=today + timedelta(days=31))
    assert (later.coverage, later.contract_no) == ("in_warranty", None)
    other = coverage_for(session, customer=customer(session, "C002"), order=None, line=None, received_on=today)
    assert other.coverage == "unknown"


def test_a_contract_naming_a_sale_covers_only_that_sale_and_wins_over_a_general_one(session, user_named):
    c001, order, line = cnc_case(session)
    today = date.today()
    admin = user_named("admin")
    period = {"valid_from": today - timedelta(days=1), "valid_to": today + timedelta(days=1)}
    add_service_contract(session, admin, contract_no="SC-GEN", customer_code="C001", **period)
    add_service_contract(
        session, admin, contract_no="SC-SO", customer_code="C001", origin_so_no="SO-2025-0001", **period
    )
    result = coverage_for(session, customer=c001, order=order, line=line, received_on=today)
    assert result.contract_no == "SC-SO"
    assert coverage_for(session, customer=c001, order=None, line=None, received_on=today).contract_no == "SC-GEN"


def test_a_contract_for_another_sale_does_not_cover(session, user_named):
    c002 = customer(session, "C002")
    today = date.today()
    add_service_contract(
        session,
        user_named("manager"),
        contract_no="SC-0042",
        customer_code="C002",
        origin_so_no="SO-2022-0042",
        valid_from=today,
        valid_to=today,
    )
    assert coverage_for(session, customer=c002, order=None, line=None, received_on=today).coverage == "unknown"


@pytest.mark.parametrize("username", ["designer", "supervisor", "sales"])
def test_only_service_managers_and_admins_add_contracts(session, user_named, username):
    with pytest.raises(PermissionDeniedError):
        add_service_contract(
            session,
            user_named(username),
            contract_no="SC-1",
            customer_code="C001",
            valid_from=date(2026, 1, 1),
            valid_to=date(2026, 12, 31),
        )


def test_bad_contract_input_is_named_by_field(session, user_named):
    manager = user_named("manager")
    period = {"valid_from": date(2026, 1, 1), "valid_to": date(2026, 12, 31)}
    add_service_contract(session, manager, contract_no="SC-1", customer_code="C001", **period)
    with pytest.raises(InvalidInputError) as caught:
        add_service_contract(
            session,
            manager,
            contract_no="SC-1",
            customer_code="C999",
            valid_from="2026-02-01",
            valid_to="2026-01-31",
            terms="x" * 4001,
            origin_so_no="SO-NOPE",
        )
    assert set(caught.value.fields) == {"contract_no", "customer_code", "valid_to", "terms", "origin_so_no"}
    with pytest.raises(InvalidInputError) as caught:
        add_service_contract(
            session, manager, contract_no="SC-2", customer_code="C001", origin_so_no="SO-2022-0042", **period
        )
    assert caught.value.fields["origin_so_no"] == "sales order SO-2022-0042 was sold to another customer"


def test_registration_snapshots_the_coverage_on_the_csi(session, runtime, calendar, user_named):
    order = sales_order(session, "SO-2025-0001")
    policy(session, user_named("designer"), effective_from=order.sale_date - timedelta(days=10), warranty_months=3)
    session.commit()
    csi, _instance = register(session, runtime, user_named("manager"), calendar)
    assert (csi.coverage, csi.policy_version, csi.contract_no) == ("out_of_warranty", 1, None)
    assert csi.archive_required is True and csi.sale_date == order.sale_date
    assert csi.facts()["archive_required"] is True


def test_registration_marks_contract_cases(session, runtime, calendar, user_named):
    today = date.today()
    add_service_contract(
        session,
        user_named("manager"),
        contract_no="SC-2026-007",
        customer_code="C001",
        valid_from=today - timedelta(days=5),
        valid_to=today + timedelta(days=5),
    )
    session.commit()
    csi, _instance = register(session, runtime, user_named("manager"), calendar, serial_no="TK-7781")
    assert (csi.coverage, csi.contract_no, csi.archive_required) == ("contract", "SC-2026-007", False)
    assert csi.policy_version is None and csi.warranty_until is not None


# ---- training syllabi (§6.1) --------------------------------------------------------------------------------


def test_designer_writes_syllabus_versions_and_the_newest_is_current(session, user_named):
    designer, cnc = user_named("designer"), product(session, "P-CNC500")
    assert current_syllabus(session, cnc) is None
    first = set_training_syllabus(session, designer, "P-CNC500", modules=MODULES)
    second = set_training_syllabus(session, designer, "P-CNC500", modules=MODULES[:1])
    session.commit()
    assert (first.version, second.version) == (1, 2) and second.maintained_by == "designer"
    current = current_syllabus(session, cnc)
    assert current is not None and current.version == 2 and current.modules == MODULES[:1]
    assert first.modules == MODULES


def test_only_product_design_writes_syllabi(session, user_named):
    with pytest.raises(PermissionDeniedError):
        set_training_syllabus(session, user_named("manager"), "P-CNC500", modules=MODULES)


@pytest.mark.parametrize(
    ("modules", "fields"),
    [
        ([], {"modules"}),
        ("M1", {"modules"}),
        ([{"code": "M1", "title": "t", "hours": 0}], {"modules[0].hours"}),
        ([{"code": "M1", "title": "t", "hours": True}], {"modules[0].hours"}),
        ([{"code": "", "title": "t", "hours": 1}], {"modules[0].code"}),
        ([{"code": "M1", "title": "t", "hours": 1, "notes": "x"}], {"modules[0]"}),
        ([{"code": "M1", "title": "t", "hours": 1}, {"code": "M1", "title": "u", "hours": 2}], {"modules[1].code"}),
        (["M1"], {"modules[0]"}),
    ],
)
def test_bad_syllabus_modules_are_named_by_field(session, user_named, modules, fields):
    with pytest.raises(InvalidInputError) as caught:
        set_training_syllabus(session, user_named("designer"), "P-CNC500", modules=modules)
    assert set(caught.value.fields) == fields


# ---- the review check against the DMN proposal (§3.1, §3.2) ---------------------------------------------------

SPARE_PROPOSAL = {"product_category": "spare_part", "proposed_billing": "free", "allowed_plans": ["parts_only", "none"]}
EQUIP_PROPOSAL = {
    "product_category": "complete_equipment",
    "proposed_billing": "paid",
    "allowed_plans": ["parts_only", "field_service", "training", "none"],
}


def test_a_decision_within_the_proposal_passes():
    check_review_decision(SPARE_PROPOSAL, {"service_plan": ["parts_only"], "billing": "free"})
    check_review_decision(EQUIP_PROPOSAL, {"service_plan": ["field_service", "training"], "billing": "paid"})


def test_field_service_for_a_spare_part_is_refused_citing_3_1():
    with pytest.raises(InvalidInputError) as caught:
        check_review_decision(SPARE_PROPOSAL, {"service_plan": ["parts_only", "field_service"], "billing": "free"})
    message = caught.value.fields["service_plan"]
    assert set(caught.value.fields) == {"service_plan"}
    assert message.startswith("§3.1") and "not allowed: field_service" in message


def test_changing_the_billing_needs_a_written_reason():
    decision = {"service_plan": ["field_service"], "billing": "partly_paid"}
    with pytest.raises(InvalidInputError) as caught:
        check_review_decision(EQUIP_PROPOSAL, decision)
    assert "only with a written reason" in caught.value.fields["override_reason"]
    with pytest.raises(InvalidInputError):
        check_review_decision(EQUIP_PROPOSAL, {**decision, "override_reason": "   "})
    check_review_decision(EQUIP_PROPOSAL, {**decision, "override_reason": "设计缺陷，公司承担一半（§3.2）"})


def test_every_problem_is_reported_at_once():
    with pytest.raises(InvalidInputError) as caught:
        check_review_decision(SPARE_PROPOSAL, {"service_plan": ["training"], "billing": "paid"})
    assert set(caught.value.fields) == {"service_plan", "override_reason"}
    with pytest.raises(InvalidInputError) as caught:
        check_review_decision(SPARE_PROPOSAL, {"service_plan": [], "billing": "gratis"})
    assert set(caught.value.fields) == {"service_plan", "billing"}


def test_without_a_proposal_nothing_limits_the_review():
    check_review_decision({}, {"service_plan": ["field_service"], "billing": "paid"})
