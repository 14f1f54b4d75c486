"""Outcome of an accounting record: the record type decides finality, the category hard vs soft."""

from __future__ import annotations

import io
from collections import Counter
from pathlib import Path

import pytest

from campaigns.accounting.classify import DEFAULT_HARD_CATEGORIES, OUTCOMES, mailbox_missing, outcome
from campaigns.accounting.parser import AccountingRecord, iter_objects, iter_rows, open_accounting
from campaigns.tests.test_parser import FIXTURES


def _record(kind: str, category: str = "", status: str = "", diag: str = "") -> AccountingRecord:
    obj = {"type": kind, "timeLogged": "1752137937", "bounceCat": category}
    obj |= {"dsnStatus": status, "dsnDiag": diag}
    (result,) = iter_objects([obj])
    assert result.record is not None, result.error
    return result.record


@pytest.mark.parametrize(
    ("kind", "category", "status", "diag", "expected"),
    [
        ("d", "", "2.0.0 (success)", "smtp;250 ok", "delivered"),
        ("d", "success", "2.0.0 (success)", "smtp;250 ok", "delivered"),  # old d rows carry a category
        ("d", "bad-mailbox", "", "", "delivered"),
        ("b", "bad-mailbox", "5.1.1 (bad destination mailbox address)", "smtp;550 5.1.1 no", "hard_bounce"),
        ("b", "bad-domain", "5.1.2 (bad destination system: no such domain)", "", "hard_bounce"),
        ("b", "inactive-mailbox", "5.2.1", "smtp;550 disabled", "hard_bounce"),
        ("b", "invalid-mailbox", "5.1.1", "smtp;554 5.1.1 undeliverable", "hard_bounce"),
        ("rb", "bad-mailbox", "5.1.1", "", "hard_bounce"),
        ("b", "Bad-Mailbox", "", "", "hard_bounce"),
        ("b", "quota-issues", "5.2.2 (mailbox full)", "smtp;552 5.2.2 Mailbox full", "soft_bounce"),
        ("b", "spam-related", "5.7.1 (delivery not authorized)", "smtp;554 5.7.1 spam", "soft_bounce"),
        ("b", "policy-related", "5.7.1", "smtp;550 5.7.1 blocked using Spamhaus", "soft_bounce"),
        ("b", "routing-errors", "5.4.6 (routing loop detected)", "routing loop detected", "soft_bounce"),
        ("b", "message-expired", "4.4.7", "No answer from host", "soft_bounce"),
        ("rb", "", "", "", "soft_bounce"),
        # category other: the text decides (Yahoo's real "mailbox not found" row)
        ("b", "other", "5.0.0", "smtp;552 1 Requested mail action aborted, mailbox not found", "hard_bounce"),
        ("b", "other", "5.1.1 (bad destination mailbox address)", "smtp;550 rejected", "hard_bounce"),
        ("b", "other", "5.0.0", "smtp;550 5.1.1 <x@y>: Recipient rejected: User unknown", "hard_bounce"),
        ("b", "other", "5.0.0", "smtp;550 No such user here", "hard_bounce"),
        ("b", "other", "5.0.0", "smtp;550 Requested action not taken: mailbox unavailable", "soft_bounce"),
        ("b", "other", "5.1.10 (null MX)", "smtp;550 5.1.10 recipient domain has null MX", "soft_bounce"),
        ("b", "other", "5.0.0", "smtp;554 rejected for policy reasons", "soft_bounce"),
        ("rb", "", "5.0.0", "smtp;550 The mailbox does not exist", "hard_bounce"),
        # only vague categories fall back to the text
        ("b", "spam-related", "5.7.1", "smtp;550 user unknown or spam", "soft_bounce"),
        # t rows carry categories too, and are never final
        ("t", "bad-mailbox", "4.1.1", "smtp;450 4.1.1 mailbox unavailable", "transient"),
        ("t", "policy-related", "4.7.0", "smtp;421 4.7.0 deferred", "transient"),
        ("tq", "no-answer-from-host", "4.4.1", "No answer from host", "transient"),
        ("f", "", "", "", "complaint"),
        ("r", "", "", "", "received"),
        ("rs", "bad-mailbox", "5.1.1", "", "other"),
    ],
)
def test_it_classifies_records_by_type_then_category(kind, category, status, diag, expected):
    assert outcome(_record(kind, category, status, diag), DEFAULT_HARD_CATEGORIES) == expected
    assert expected in OUTCOMES


def test_it_uses_the_default_hard_set_when_none_is_given():
    assert outcome(_record("b", "invalid-mailbox")) == "hard_bounce"
    expected = {"bad-mailbox", "bad-domain", "inactive-mailbox", "invalid-mailbox"}
    assert expected == DEFAULT_HARD_CATEGORIES


def test_it_honours_custom_categories():
    custom = frozenset({"mailbox-gone", "bad-mailbox"})
    assert outcome(_record("b", "mailbox-gone"), custom) == "hard_bounce"
    assert outcome(_record("b", "bad-domain"), custom) == "soft_bounce"
    assert outcome(_record("b", "mailbox-gone")) == "soft_bounce"
    assert outcome(_record("t", "mailbox-gone"), custom) == "transient"


def test_it_detects_missing_mailbox_text():
    assert mailbox_missing(_record("b", status="5.1.1 (bad destination mailbox address)"))
    assert not mailbox_missing(_record("b", status="5.1.10"))
    assert not mailbox_missing(_record("b", diag="smtp;550 15.1.1 weird"))


def test_it_classifies_the_real_files():
    counts: Counter[str] = Counter()
    for path in sorted(Path(FIXTURES).glob("acct-*.csv")):
        with open_accounting(path) as stream:
            counts.update(outcome(r.record) for r in iter_rows(stream, final=True))
    # 26 d; b: bad-domain 26 + bad-mailbox 15 + invalid-mailbox 3 + Yahoo "mailbox not found" (other) 4,
    # soft: spam-related 3 + routing-errors 2
    assert counts == {"delivered": 26, "hard_bounce": 48, "soft_bounce": 5}


def test_it_classifies_a_csv_record():
    data = io.BytesIO(b"type,timeLogged,bounceCat\nb,1752137937,bad-domain\n")
    (result,) = iter_rows(data)
    assert outcome(result.record) == "hard_bounce"
