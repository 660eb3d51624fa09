"""Typed records (SQLAlchemy models): the facts of each case, kept apart from the process state."""

from engine.records.attachment import Attachment
from engine.records.calendar import CalendarDay
from engine.records.calendar import CalendarSetting
from engine.records.csi import CSI
from engine.records.master import Customer
from engine.records.master import Product
from engine.records.master import SalesOrder
from engine.records.master import SalesOrderLine
from engine.records.numbering import DocumentSequence
from engine.records.process import DefinitionBundle
from engine.records.process import HumanTask
from engine.records.process import ProcessInstance
from engine.records.process import ProcessVersion
from engine.records.timeline import TimelineEvent
from engine.records.user import AuthSession
from engine.records.user import User
from engine.records.user import UserRole

__all__ = [
    "CSI",
    "Attachment",
    "AuthSession",
    "CalendarDay",
    "CalendarSetting",
    "Customer",
    "DefinitionBundle",
    "DocumentSequence",
    "HumanTask",
    "ProcessInstance",
    "ProcessVersion",
    "Product",
    "SalesOrder",
    "SalesOrderLine",
    "TimelineEvent",
    "User",
    "UserRole",
]
