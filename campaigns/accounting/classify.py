"""What a PMTA accounting record means for the recipient: delivered, bounced (hard/soft), deferred...

The record type decides finality (PMTA-NOTES section 1): ``t`` rows carry bounce categories too, and
old ``d`` rows carry ``bounceCat=success``, so the category alone never makes a bounce.
"""

from __future__ import annotations

import re
from typing import Protocol

__all__ = [
    "BOUNCE",
    "COMPLAINT",
    "COMPLAINT_FEEDBACK_TYPES",
    "DEFAULT_HARD_CATEGORIES",
    "DELIVERED",
    "FAILURES",
    "HARD_BOUNCE",
    "OTHER",
    "OUTCOMES",
    "RECEIVED",
    "SOFT_BOUNCE",
    "TRANSIENT",
    "bounce_outcome",
    "feedback_outcome",
    "mailbox_missing",
    "outcome",
]

DELIVERED = "delivered"
HARD_BOUNCE = "hard_bounce"
SOFT_BOUNCE = "soft_bounce"
TRANSIENT = "transient"
COMPLAINT = "complaint"
RECEIVED = "received"
OTHER = "other"
OUTCOMES = (DELIVERED, HARD_BOUNCE, SOFT_BOUNCE, TRANSIENT, COMPLAINT, RECEIVED, OTHER)
BOUNCE = frozenset({HARD_BOUNCE, SOFT_BOUNCE})
# Outcomes that carry a remote server's refusal or deferral text: what reply rules look at.
FAILURES = (TRANSIENT, SOFT_BOUNCE, HARD_BOUNCE)

# The "safe choice" of PMTA-NOTES: categories that say the address itself is gone. MailWizz adds
# nothing else; port25-bouncehandler's routing-errors is left soft (it is often our own config).
DEFAULT_HARD_CATEGORIES = frozenset({"bad-mailbox", "bad-domain", "inactive-mailbox", "invalid-mailbox"})

# Categories too vague to trust, where the diagnostic text decides (Yahoo's "mailbox not found"
# arrives as category other in the real fixtures).
_VAGUE_CATEGORIES = frozenset({"", "other"})

# Texts that clearly say the mailbox does not exist. 5.1.1 must not match 5.1.10 (null MX) or 5.1.12.
_MAILBOX_MISSING = re.compile(
    r"(?<![\d.])5\.1\.1(?![\d])"
    r"|user\s+unknown|unknown\s+user"
    r"|mailbox\s+(?:not\s+found|does\s+not\s+exist|unavailable\s*:\s*user\s+unknown)"
    r"|no\s+such\s+(?:user|mailbox|recipient|account)"
    r"|(?:user|recipient|address|account|mailbox)\s+not\s+found"
    r"|does\s+not\s+exist",
    re.IGNORECASE,
)


# ARF Feedback-Type values (RFC 5965 section 7.3; PMTA maps it to feedbackType, UG5 11.2.8) that report
# unwanted mail: complaints, which suppress. ``not-spam`` says the opposite, and ``other`` and
# ``auth-failure`` (RFC 6591) are no recipient's complaint: they count as other and never suppress.
# An empty type is a report without one, as Hotmail's JMRP sends (UG5 12.7.1): a junk report.
COMPLAINT_FEEDBACK_TYPES = frozenset({"abuse", "fraud", "virus", ""})


class _Classifiable(Protocol):
    type: str
    bounce_cat: str
    dsn_status: str
    dsn_diag: str
    feedback_type: str


def mailbox_missing(record: _Classifiable) -> bool:
    """True when dsnStatus or dsnDiag clearly says the recipient mailbox does not exist."""
    return _says_mailbox_missing(record.dsn_status, record.dsn_diag)


def _says_mailbox_missing(dsn_status: str, dsn_diag: str) -> bool:
    return bool(_MAILBOX_MISSING.search(dsn_status) or _MAILBOX_MISSING.search(dsn_diag))


def bounce_outcome(bounce_cat: str, dsn_status: str, dsn_diag: str, hard_categories: frozenset[str]) -> str:
    """HARD_BOUNCE or SOFT_BOUNCE for a b/rb record's fields (see ``outcome``)."""
    category = bounce_cat.strip().lower()
    if category in hard_categories:
        return HARD_BOUNCE
    if category in _VAGUE_CATEGORIES and _says_mailbox_missing(dsn_status, dsn_diag):
        return HARD_BOUNCE
    return SOFT_BOUNCE


def feedback_outcome(feedback_type: str) -> str:
    """COMPLAINT or OTHER for an f record's feedbackType (see COMPLAINT_FEEDBACK_TYPES)."""
    return COMPLAINT if feedback_type.strip().lower() in COMPLAINT_FEEDBACK_TYPES else OTHER


def _bounce(record: _Classifiable, hard_categories: frozenset[str]) -> str:
    return bounce_outcome(record.bounce_cat, record.dsn_status, record.dsn_diag, hard_categories)


def outcome(record: _Classifiable, hard_categories: frozenset[str] = DEFAULT_HARD_CATEGORIES) -> str:
    """One of OUTCOMES for a record: d delivered; b/rb hard or soft bounce; t/tq transient; f complaint
    or other by its feedback type; r received; rs and anything else other. ``hard_categories`` are
    lower-case bounce categories (the set is open: custom ``<bounce-category-patterns>`` names work too).
    """
    kind = record.type
    if kind == "d":
        return DELIVERED
    if kind in ("b", "rb"):
        return _bounce(record, hard_categories)
    if kind in ("t", "tq"):
        return TRANSIENT
    if kind == "f":
        return feedback_outcome(record.feedback_type)
    if kind == "r":
        return RECEIVED
    return OTHER
