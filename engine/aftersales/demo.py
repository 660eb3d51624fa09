"""Demo master data and one demo user per role, so `make run` shows a working system at once."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import Session

from engine.aftersales.claims.suppliers import create_supplier
from engine.aftersales.importing import HEADERS
from engine.aftersales.importing import import_rows
from engine.aftersales.policies.service import set_training_syllabus
from engine.aftersales.policies.service import set_warranty_policy
from engine.platform.users import create_user
from engine.records.master import Customer
from engine.records.user import Role
from engine.records.user import User

DEMO_PASSWORD = "demo-pass-2026"
DEMO_USERS: dict[str, tuple[str, list[str]]] = {
    "director": ("王总监", [Role.SERVICE_DIRECTOR.value]),
    "manager": ("李经理", [Role.SERVICE_MANAGER.value]),
    "supervisor": ("张主管", [Role.SERVICE_SUPERVISOR.value]),
    "engineer": ("赵工程师", [Role.SERVICE_ENGINEER.value]),
    "qc": ("钱质检", [Role.ENGINEERING_QC.value]),
    "sales": ("孙销售", [Role.SALES.value]),
    "designer": ("周设计", [Role.PRODUCT_DESIGN.value]),
    "hr": ("吴人事", [Role.HR.value]),
    "modeler": ("郑流程", [Role.PROCESS_DESIGNER.value]),
    "admin": ("系统管理员", [Role.ADMIN.value]),
}
CUSTOMERS: list[tuple[str, ...]] = [
    ("C001", "华东精密机械有限公司", "CN"),
    ("C002", "北方重工集团", "CN"),
    ("C100", "Müller Maschinenbau GmbH", "DE"),
]
PRODUCTS: list[tuple[str, ...]] = [
    ("P-CNC500", "CNC500 数控加工中心", "complete_equipment", "24"),
    ("P-TOOLKIT", "标准刀具套装", "tool_set", "12"),
    ("P-SPINDLE", "主轴轴承（备件）", "spare_part", "6"),
    ("BRG-6205", "主轴轴承 6205", "spare_part", "6"),
    ("SEAL-40", "油封 40mm", "spare_part", "6"),
    ("SPN-500", "主轴组件 CNC500", "spare_part", "12"),
    ("FLT-10", "冷却液过滤芯", "spare_part", "3"),
]


SUPPLIERS: list[dict[str, object]] = [
    {
        "code": "S-BRG",
        "name": "洛阳精密轴承有限公司",
        "contact": "陈经理",
        "phone": "0379-6123 4567",
        "email": "claims@ly-bearing.example.com",
    },
    {"code": "S-SEAL", "name": "宁波密封件厂", "contact": "刘工", "phone": "0574-8765 4321", "email": None},
    {"code": "S-OLD", "name": "原主轴配套厂（已停用）", "active": False},
]
POLICIES: list[tuple[str, int, str, bool]] = [
    ("P-CNC500", 24, "整机三包：主机及数控系统，不含刀具、易损件", True),
    ("P-TOOLKIT", 12, "刀具套装：制造缺陷更换，不含正常磨损", False),
    ("P-SPINDLE", 6, "备件：退换或补偿", False),
]
SYLLABUS: list[dict[str, object]] = [
    {"code": "OPS-01", "title": "操作与日常保养", "hours": 4},
    {"code": "PRG-02", "title": "数控编程基础", "hours": 8},
    {"code": "MNT-03", "title": "故障诊断与维修", "hours": 8},
]


def demo_sales_orders(today: date) -> list[tuple[str, ...]]:
    """Sales orders dated relative to today: one in warranty, one out, one overseas."""
    recent = date(today.year - 1, today.month, min(today.day, 28)).isoformat()
    old = date(today.year - 4, 3, 15).isoformat()
    return [
        ("SO-2025-0001", "C001", recent, "P-CNC500", "CNC500-0001", "1"),
        ("SO-2025-0001", "C001", recent, "P-TOOLKIT", "TK-7781", "1"),
        ("SO-2022-0042", "C002", old, "P-CNC500", "CNC500-0042", "1"),
        ("SO-2025-0100", "C100", recent, "P-SPINDLE", "", "4"),
    ]


def load_demo(session: Session, today: date) -> bool:
    """Load demo data once; returns False when it is already there."""
    if session.scalars(sa.select(Customer.id).limit(1)).first() is not None:
        return False
    for kind, rows in (("customers", CUSTOMERS), ("products", PRODUCTS), ("sales-orders", demo_sales_orders(today))):
        keys = HEADERS[kind]
        import_rows(session, kind, [(i, dict(zip(keys, row, strict=True))) for i, row in enumerate(rows, 2)])
    for username, (display_name, roles) in DEMO_USERS.items():
        if session.scalars(sa.select(User.id).where(User.username == username)).first() is None:
            create_user(session, username, DEMO_PASSWORD, roles, display_name=display_name)
    _demo_policies(session)
    _demo_suppliers(session)
    return True


def _demo_suppliers(session: Session) -> None:
    """A few suppliers (§5.5), kept by Sales; one inactive, as a supplier no longer used would be."""
    sales = session.scalars(sa.select(User).where(User.username == "sales")).one()
    for row in SUPPLIERS:
        create_supplier(session, sales, row)


def _demo_policies(session: Session) -> None:
    """Warranty policies (§2.4) and a training syllabus (§6.1), as the product design department would set them."""
    designer = session.scalars(sa.select(User).where(User.username == "designer")).one()
    for code, months, scope, archive in POLICIES:
        set_warranty_policy(
            session,
            designer,
            code,
            effective_from="2020-01-01",
            warranty_months=months,
            scope=scope,
            archive_required=archive,
        )
    set_training_syllabus(session, designer, "P-CNC500", modules=SYLLABUS)
