"""Governance: the project's record, who may decide, the audit of every decision, and what
each version's card says about where it came from."""

from .approvals import (
    Approval,
    approval,
    ci_context,
    identity_key,
    same_person,
    trainer_identity,
    writer_identity,
)
from .audit import (
    AuditLog,
    AuditTrail,
    Reconciled,
    append_audit,
    read_audit,
    read_audit_log,
)
from .docs_pack import technical_documentation
from .provenance import card_record_section, provenance, with_card_id
from .record import RECORD_FILE, RISK_TIERS, Record, find_record, load_record, note_latest

__all__ = [
    "RECORD_FILE",
    "RISK_TIERS",
    "Approval",
    "AuditLog",
    "AuditTrail",
    "Reconciled",
    "Record",
    "append_audit",
    "approval",
    "card_record_section",
    "ci_context",
    "find_record",
    "identity_key",
    "load_record",
    "note_latest",
    "provenance",
    "read_audit",
    "read_audit_log",
    "same_person",
    "technical_documentation",
    "trainer_identity",
    "with_card_id",
    "writer_identity",
]
