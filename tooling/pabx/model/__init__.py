"""Pydantic models, one module per file kind; the single source of the JSON Schemas."""

from pabx.model.common import CALL_CLASSES, CLASS_LABELS, CallClass, DestinationKind, split_destination
from pabx.model.inventory import Capacity, HostVars, Inventory
from pabx.model.number import NumberEntry
from pabx.model.plan import Plan
from pabx.model.platform import Platform
from pabx.model.route import Route
from pabx.model.tenant import Extension, Ivr, PersonType, Queue, Status, Tenant
from pabx.model.trunk import NumberFormat, Trunk
from pabx.model.user import Role, User, Users

__all__ = [
    "CALL_CLASSES",
    "CLASS_LABELS",
    "CallClass",
    "Capacity",
    "DestinationKind",
    "Extension",
    "HostVars",
    "Inventory",
    "Ivr",
    "NumberEntry",
    "NumberFormat",
    "PersonType",
    "Plan",
    "Platform",
    "Queue",
    "Role",
    "Route",
    "Status",
    "Tenant",
    "Trunk",
    "User",
    "Users",
    "split_destination",
]
