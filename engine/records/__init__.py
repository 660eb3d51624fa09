"""Typed records (SQLAlchemy models): the facts of each case, kept apart from the process state."""

from engine.records.attachment import Attachment
from engine.records.calendar import CalendarDay
from engine.records.calendar import CalendarSetting
from engine.records.csi import CSI
from engine.records.idempotency import IdempotencyKey
from engine.records.inbox_view import InboxView
from engine.records.master import Customer
from engine.records.master import Product
from engine.records.master import SalesOrder
from engine.records.master import SalesOrderLine
from engine.records.notification import Notice
from engine.records.notification import OutboxMessage
from engine.records.notification import WebhookEndpoint
from engine.records.numbering import DocumentSequence
from engine.records.part_return import PartReturn
from engine.records.policy import ServiceContract
from engine.records.policy import TrainingSyllabus
from engine.records.policy import WarrantyPolicy
from engine.records.portal import CaseContact
from engine.records.portal import CaseLink
from engine.records.portal import CustomerRequest
from engine.records.process import DefinitionBundle
from engine.records.process import DefinitionFile
from engine.records.process import HumanTask
from engine.records.process import ProcessDefinition
from engine.records.process import ProcessInstance
from engine.records.process import ProcessVersion
from engine.records.psr import PSR
from engine.records.quality import QualityFeedback
from engine.records.quality import SatisfactionSurvey
from engine.records.service_purchase import ServicePurchase
from engine.records.service_sales_order import ServiceSalesOrder
from engine.records.supplier import Supplier
from engine.records.supplier_claim import SupplierClaim
from engine.records.timeline import TimelineEvent
from engine.records.training_plan import TrainingPlan
from engine.records.user import AuthSession
from engine.records.user import SignInFailure
from engine.records.user import User
from engine.records.user import UserRole
from engine.records.work_order import WorkOrder

__all__ = [
    "InboxView",
    "CaseContact",
    "CaseLink",
    "CustomerRequest",
    "PSR",
    "PartReturn",
    "QualityFeedback",
    "SatisfactionSurvey",
    "ServicePurchase",
    "ServiceSalesOrder",
    "Supplier",
    "SupplierClaim",
    "TrainingPlan",
    "WorkOrder",
    "CSI",
    "Attachment",
    "AuthSession",
    "CalendarDay",
    "CalendarSetting",
    "Customer",
    "DefinitionBundle",
    "DefinitionFile",
    "DocumentSequence",
    "HumanTask",
    "IdempotencyKey",
    "Notice",
    "OutboxMessage",
    "ProcessDefinition",
    "ProcessInstance",
    "ProcessVersion",
    "Product",
    "SalesOrder",
    "SalesOrderLine",
    "ServiceContract",
    "SignInFailure",
    "TimelineEvent",
    "TrainingSyllabus",
    "User",
    "UserRole",
    "WarrantyPolicy",
    "WebhookEndpoint",
]
