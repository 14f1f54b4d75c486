"""The Feedback-ID convention, so Gmail's feedback-loop figures map back to tenants and campaigns.

Gmail's feedback loop aggregates spam reports by the ``Feedback-ID`` header a sender sets (PMTA-NOTES section
10): up to four colon-separated identifiers, the last one the sender's own, constant id. Postmaster Tools v2
reports the spam rate per identifier (``FEEDBACK_LOOP_ID`` / ``FEEDBACK_LOOP_SPAM_RATE``). Ours:

    Feedback-ID: <campaign key>:<tenant slug>:<stream>:<sender id>

e.g. ``spring-sale:acme:bulk:ee1``. The tenant slug is always the second field, so a figure for any campaign
of a tenant maps to that tenant; the sender id is settings.FEEDBACK_ID_SENDER.
"""

from __future__ import annotations

import re

from django.conf import settings

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
MAX_FIELD = 64


def _clean(value: str) -> str:
    return _UNSAFE.sub("-", value.strip())[:MAX_FIELD].strip("-") or "none"


def feedback_id(*, tenant_slug: str, campaign_key: str, stream: str = "bulk") -> str:
    """The header value MailWizz (or any sender) should set for one tenant's campaign."""
    return ":".join(
        (_clean(campaign_key), _clean(tenant_slug), _clean(stream), _clean(settings.FEEDBACK_ID_SENDER))
    )


def parse_feedback_id(value: str) -> dict[str, str] | None:
    """The fields of one of our Feedback-IDs, or None for any other value."""
    parts = value.strip().split(":")
    if len(parts) != 4 or parts[3] != _clean(settings.FEEDBACK_ID_SENDER):
        return None
    return {"campaign": parts[0], "tenant": parts[1], "stream": parts[2]}
