"""Accounting records straight into rows for Postgres ``COPY``: the importer's fast path.

``AccountingRecord`` is the parser's general result; building one per record (26 fields, a dict and a
RowResult around it) costs more than ``csv.reader`` spends on the whole row. The importer only needs
the columns of ``DeliveryEvent``, so ``StageContext.factory`` gives the reader a builder that goes from
the CSV row (or a JSON object's values) to exactly those values, as the strings COPY reads, with the
same validation and the same fingerprint as ``_Mapper.build``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC
from hashlib import sha256
from operator import itemgetter

from campaigns.accounting.classify import bounce_outcome, feedback_outcome
from campaigns.accounting.parser import (
    RECORD_TYPES,
    STRICT_FIELDS,
    RowError,
    campaign_field,
    parse_time,
)

__all__ = ["COPY_OPTIONS", "NULL", "STAGE_COLUMNS", "TEXT_COLUMNS", "StageContext", "copy_data"]

# The DeliveryEvent columns a staged row holds, in order; the importer appends the event id.
STAGE_COLUMNS = (
    "time_logged",
    "type",
    "outcome",
    "rcpt",
    "rcpt_domain",
    "orig",
    "source_ip",
    "vmta",
    "dsn_status",
    "dsn_diag",
    "bounce_cat",
    "feedback_type",
    "campaign_key",
    "campaign_id",
    "tenant_id",
    "server_id",
    "ip_id",
    "message_id",
    "job_id",
    "fingerprint",
    "env_id",
)
# A staged row is a plain tuple (no object per record); its positions come from here, by column name.
COLUMN = {name: position for position, name in enumerate(STAGE_COLUMNS)}
TIME_LOGGED, TYPE, RCPT, ORIG, CAMPAIGN_KEY, CAMPAIGN_ID, TENANT_ID, ENV_ID = (
    COLUMN[name]
    for name in ("time_logged", "type", "rcpt", "orig", "campaign_key", "campaign_id", "tenant_id", "env_id")
)
# Records that carry no sending IP of ours (rb/rs, UG5 11.2.7) or may lack one (f): without a tenant from
# the IP, the importer credits them to the original message's tenant (importer._credit_to_origin).
ORIGIN_TYPES = frozenset({"rb", "rs", "f"})
# Columns where COPY must read an empty field as '' rather than NULL (FORCE_NOT_NULL).
ID_COLUMNS = ("campaign_id", "tenant_id", "server_id", "ip_id")
TEXT_COLUMNS = tuple(name for name in STAGE_COLUMNS if name not in ID_COLUMNS)
NULL = ""  # an unquoted empty field: NULL in the id columns

# Field-size limits, in characters (README "Accounting records: limits"). A longer value in one of these
# fields rejects the record: cutting it would merge it with other addresses or campaigns, and storing
# it could exceed an index's row size and fail its whole batch. Free text is never refused for length:
# dsnDiag is stored cut to DIAG_MAX, other free text (header_*, dsnMta ...) is not stored at all.
# parser.FIELD_MAX (128 KiB) bounds every field, free text included.
RCPT_MAX = 320  # rcpt and orig: Suppression.email; RFC 5321 4.5.3.1.3 allows a 256-octet path
VMTA_MAX = 100  # DailyStat.vmta
KEY_MAX = 200  # the campaign key: Campaign.key
CATEGORY_MAX = 100  # bounceCat, feedbackType: category names in the daily stats
DIAG_MAX = 500
# The CSV quote character for COPY: one no accounting field contains in practice (see copy_data).
QUOTE = "\x01"
COPY_OPTIONS = "FORMAT csv, DELIMITER E'\\t', QUOTE E'\\x01', FORCE_NOT_NULL ({})".format(
    ", ".join(TEXT_COLUMNS)
)
_SPECIAL = re.compile("[\n\r\x01]")

_FIXED_OUTCOMES = {
    "d": "delivered",
    "t": "transient",
    "tq": "transient",
    "r": "received",
    "rs": "other",
}

# Raw PMTA time -> the ISO text COPY gets. Validated by parse_time once per distinct value; many records
# share a second, and the memo is cleared when it grows.
_TIMES: dict[str, str] = {}
_TIMES_MAX = 100_000


def _time(value: str, name: str) -> str:
    # In UTC, so the texts of a batch sort as their times do: the importer takes a batch's first and last
    # time with min() and max() on them (the day partitions its aggregation has to look at).
    try:
        text = parse_time(value).astimezone(UTC).isoformat()
    except ValueError:
        raise RowError(f"bad {name} {value!r}") from None
    if len(_TIMES) >= _TIMES_MAX:
        _TIMES.clear()
    _TIMES[value] = text
    return text


class StageContext:
    """What a staged row needs besides the record: ids by sending IP, campaign ids, hard categories.

    ``ip_ids(address)`` gives (ip id, tenant id, server id) as COPY text ('' for none).
    ``campaign_ids`` maps (tenant id text, key) to a campaign id text; keys not in it are collected in
    ``missing`` and their rows get NULL, for the importer to fill in before COPY.
    """

    def __init__(
        self,
        *,
        ip_ids: Callable[[str], tuple[str, str, str]],
        campaign_ids: dict[tuple[str, str], str],
        hard_categories: frozenset[str],
        campaign_source: str,
    ) -> None:
        self.ip_ids = ip_ids
        self.campaign_ids = campaign_ids
        self.hard_categories = hard_categories
        self.campaign_field = campaign_field(campaign_source)  # ValueError for a bad setting
        self.missing: set[tuple[str, str]] = set()

    def take_missing(self) -> set[tuple[str, str]]:
        """The keys missed since the last call (the set itself stays: builders hold on to it)."""
        missing = set(self.missing)
        self.missing.clear()
        return missing

    def factory(self, mapper) -> Callable[[list[str]], tuple]:
        """A row builder for ``mapper``'s header (the parser's StageFactory)."""
        positions, width = mapper.positions, mapper.width

        def at(name: str) -> int:
            return positions.get(name.lower(), width)  # absent: the '' sentinel after the last column

        i_type, i_logged, i_queued, i_size = at("type"), at("timeLogged"), at("timeQueued"), at("dlvSize")
        i_rcpt, i_ip, i_campaign = at("rcpt"), at("dlvSourceIp"), at(self.campaign_field)
        texts = itemgetter(
            at("orig"),
            at("vmta"),
            at("dsnStatus"),
            at("dsnDiag"),
            at("bounceCat"),
            at("feedbackType"),
            at("header_Message-Id"),
            at("jobId"),
            at("envId"),
        )
        fixed, has_other = mapper.fingerprint_parts()
        other = mapper.other_fingerprint_text
        times, types, outcomes = _TIMES, RECORD_TYPES, _FIXED_OUTCOMES
        ip_ids, campaign_ids, missing = self.ip_ids, self.campaign_ids, self.missing
        hard = self.hard_categories
        strict = STRICT_FIELDS | {self.campaign_field}
        origin_types = ORIGIN_TYPES

        def build(row: list[str]) -> tuple:
            if len(row) != width:
                raise RowError(f"expected {width} fields, got {len(row)}")
            row.append("")
            rtype = row[i_type]
            if rtype not in types:
                raise RowError(f"unknown record type {rtype!r}" if rtype else "empty record type")
            logged = row[i_logged]
            logged = times.get(logged) or _time(logged, "timeLogged")
            queued = row[i_queued]
            if queued and queued not in times:
                _time(queued, "timeQueued")
            size = row[i_size]
            if size and not size.isdigit():
                raise RowError(f"bad dlvSize {size!r}")
            fp_text = "\x1e".join(fixed(row))
            if has_other:
                fp_text += other(row)
            try:
                fingerprint = sha256(fp_text.encode()).hexdigest()[:32]
            except UnicodeEncodeError:  # bytes that were not UTF-8 somewhere in the row
                row.pop()
                return build(mapper.repair(row, strict))
            rcpt = row[i_rcpt]
            _, at_sign, domain = rcpt.rpartition("@")
            address = row[i_ip]
            ip_id, tenant_id, server_id = ip_ids(address)
            values = texts(row)
            orig, vmta, dsn_status, dsn_diag, bounce_cat, feedback_type, message_id, job_id, env_id = values
            key = row[i_campaign]
            if (
                len(rcpt) > RCPT_MAX
                or len(orig) > RCPT_MAX
                or len(vmta) > VMTA_MAX
                or len(key) > KEY_MAX
                or len(bounce_cat) > CATEGORY_MAX
                or len(feedback_type) > CATEGORY_MAX
            ):
                raise RowError(
                    _too_long(
                        rcpt=rcpt,
                        orig=orig,
                        vmta=vmta,
                        key=key,
                        bounce_cat=bounce_cat,
                        feedback_type=feedback_type,
                    )
                )
            outcome = outcomes.get(rtype) or (
                feedback_outcome(feedback_type)
                if rtype == "f"
                else bounce_outcome(bounce_cat, dsn_status, dsn_diag, hard)
            )
            if key and (tenant_id or rtype not in origin_types):
                campaign_id = campaign_ids.get((tenant_id, key))
                if campaign_id is None:
                    missing.add((tenant_id, key))
                    campaign_id = NULL
            else:  # none, or the tenant (and so the campaign) comes from the original message
                campaign_id = NULL
            return (
                logged,
                rtype,
                outcome,
                rcpt,
                domain.lower() if at_sign else "",
                orig,
                address,
                vmta,
                dsn_status,
                dsn_diag[:DIAG_MAX],
                bounce_cat,
                feedback_type,
                key,
                campaign_id,
                tenant_id,
                server_id,
                ip_id,
                message_id,
                job_id,
                fingerprint,
                env_id,
            )

        return build


def _too_long(**values: str) -> str:
    limits = {
        "rcpt": ("rcpt", RCPT_MAX),
        "orig": ("orig", RCPT_MAX),
        "vmta": ("vmta", VMTA_MAX),
        "key": ("campaign key", KEY_MAX),
        "bounce_cat": ("bounceCat", CATEGORY_MAX),
        "feedback_type": ("feedbackType", CATEGORY_MAX),
    }
    for field_name, value in values.items():
        label, limit = limits[field_name]
        if len(value) > limit:
            return f"{label} is longer than {limit} characters ({len(value)})"
    return "a field is too long"


def copy_data(rows: list[tuple], ids: range | list[int]) -> str:
    """COPY text for ``rows``, each followed by its event id: CSV with tab as delimiter and \\x01 as the
    quote character (COPY_OPTIONS), so the quotes PMTA's diagnostics are full of need no quoting.

    Nearly every field needs none, so the batch is joined at C speed and checked as a whole; only when
    a field holds a tab, a line break or \\x01 are rows quoted one by one.
    """
    data = "\n".join(map("{}\t{}".format, map("\t".join, rows), ids)) + "\n"
    if "\x00" in data:  # Postgres text cannot hold NUL
        data = data.replace("\x00", "")
        rows = [tuple(value.replace("\x00", "") for value in row) for row in rows]
    tabs = len(STAGE_COLUMNS) * len(rows)
    if data.count("\t") == tabs and data.count("\n") == len(rows) and "\r" not in data and QUOTE not in data:
        return data
    lines = []
    for row, row_id in zip(rows, ids, strict=True):
        line = "\t".join(row)
        if line.count("\t") != len(STAGE_COLUMNS) - 1 or _SPECIAL.search(line):
            line = "\t".join(map(_quoted, row))
        lines.append(f"{line}\t{row_id}\n")
    return "".join(lines)


def _quoted(value: str) -> str:
    if _SPECIAL.search(value) or "\t" in value:
        return QUOTE + value.replace(QUOTE, QUOTE + QUOTE) + QUOTE
    return value
