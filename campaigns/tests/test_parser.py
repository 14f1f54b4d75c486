"""PMTA accounting parser: real PMTA 5.x files plus the traps of PMTA-NOTES section 1."""

from __future__ import annotations

import csv
import dataclasses
import gzip
import io
import json
from collections import Counter
from datetime import UTC, datetime, timedelta, timezone

import pytest

from campaigns.accounting import parser
from campaigns.accounting.parser import (
    AccountingRecord,
    BodyError,
    HeaderError,
    campaign_from,
    iter_objects,
    iter_rows,
    open_accounting,
    parse_json_array,
    parse_ndjson,
)
from testsupport.fixtures import PMTA_FIXTURES

FIXTURES = PMTA_FIXTURES
REAL_FILES = sorted(FIXTURES.glob("acct-*.csv"))
HEADER = (
    "type,timeLogged,timeQueued,orig,rcpt,orcpt,dsnAction,dsnStatus,dsnDiag,dsnMta,bounceCat,srcType,"
    "srcMta,dlvType,dlvSourceIp,dlvDestinationIp,dlvEsmtpAvailable,dlvSize,vmta,jobId,envId,queue,vmtaPool"
)
D_ROW = (
    "d,2025-07-10 11:58:57+0300,2025-07-10 11:58:55+0300,a@b2b.example,Hassan@Example.COM,,relayed,"
    "2.0.0 (success),smtp;250 2.0.0 OK - gsmtp,mx.example.com (74.125.206.27),,smtp,"
    'eposta.pro (84.247.135.92),smtp,203.0.113.5,74.125.206.27,"PIPELINING,8BITMIME",4923,vmta0,job-1,,'
    "example.com/vmta0,pool-a"
)
B_ROW = (
    "b,2025-07-11 03:31:08+0300,2025-07-11 03:31:05+0300,a@b2b.example,x@yahoo.com,,failed,"
    '5.0.0 (undefined status),"smtp;552 1 Requested mail action aborted, mailbox not found",'
    "mta7.am0.yahoodns.net (67.195.228.94),other,smtp,eposta.pro (84.247.135.92),smtp,203.0.113.6,"
    '67.195.228.94,"PIPELINING,8BITMIME,SIZE,STARTTLS",2485,vmta0,,,yahoo.com/vmta0,pool-a'
)


def _csv(*lines: str, eol: str = "\n") -> bytes:
    return "".join(line + eol for line in lines).encode()


def _results(data: bytes, **kwargs) -> list[parser.RowResult]:
    return list(iter_rows(io.BytesIO(data), **kwargs))


def _records(data: bytes, **kwargs) -> list[AccountingRecord]:
    results = _results(data, **kwargs)
    assert [r.error for r in results if r.error] == []
    return [r.record for r in results]


# --- real files ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("acct-2025-07-10-0000.csv", {"d": 8, "b": 8}),
        ("acct-2025-07-11-0000.csv", {"d": 10, "b": 38}),
        ("acct-2025-07-12-0000.csv", {"d": 4, "b": 6}),
        ("acct-2025-07-15-0000.csv", {"d": 4, "b": 1}),
    ],
)
def test_it_parses_each_real_file_to_the_readme_counts(name, expected):
    with open_accounting(FIXTURES / name) as stream:
        reader = iter_rows(stream, final=True)
        results = list(reader)
    assert [r.describe() for r in results if r.error] == []
    assert Counter(r.record.type for r in results) == expected
    assert reader.end_offset == (FIXTURES / name).stat().st_size


def test_it_parses_all_real_files_to_26_d_and_53_b_with_their_categories():
    counts: Counter[tuple[str, str]] = Counter()
    for path in REAL_FILES:
        with open_accounting(path) as stream:
            for result in iter_rows(stream, final=True):
                assert result.error is None, result.describe()
                counts[(result.record.type, result.record.bounce_cat)] += 1
    assert sum(n for (kind, _), n in counts.items() if kind == "d") == 26
    assert sum(n for (kind, _), n in counts.items() if kind == "b") == 53
    assert counts == {
        ("d", ""): 26,
        ("b", "bad-domain"): 26,
        ("b", "bad-mailbox"): 15,
        ("b", "other"): 4,
        ("b", "invalid-mailbox"): 3,
        ("b", "spam-related"): 3,
        ("b", "routing-errors"): 2,
    }


def test_it_maps_real_fields_by_name():
    with open_accounting(FIXTURES / "acct-2025-07-10-0000.csv") as stream:
        first = next(iter(iter_rows(stream, final=True)))
    record = first.record
    assert first.line == 2
    assert record.type == "d"
    assert record.time_logged == datetime(2025, 7, 10, 8, 58, 57, tzinfo=UTC)
    assert record.time_logged.utcoffset() == timedelta(hours=3)
    assert record.time_queued == datetime(2025, 7, 10, 8, 58, 55, tzinfo=UTC)
    assert record.rcpt == "hassan@intelligentb2b.com"
    assert record.rcpt_domain == "intelligentb2b.com"
    assert record.dlv_source_ip == "91.229.239.77"
    assert record.dlv_size == 4923
    assert record.vmta == "pmta-vmta2"
    assert record.vmta_pool == "pmta-pool"
    assert record.queue == "intelligentb2b.com/pmta-vmta2"
    assert record.extra["dlvEsmtpAvailable"] == (
        "ENHANCEDSTATUSCODES,PIPELINING,CHUNKING,8BITMIME,SIZE,STARTTLS,SMTPUTF8"
    )
    assert record.extra["srcType"] == "smtp"
    assert record.job_id == ""
    assert record.message_id == ""
    assert len(record.fingerprint) == 32
    int(record.fingerprint, 16)


def test_it_keeps_quoted_diag_with_commas_quotes_and_urls():
    with open_accounting(FIXTURES / "acct-2025-07-11-0000.csv") as stream:
        records = [r.record for r in iter_rows(stream, final=True)]
    gmail = next(r for r in records if r.bounce_cat == "bad-mailbox" and r.rcpt_domain == "gmail.com")
    assert gmail.dsn_diag.startswith("smtp;550 5.1.1 The email account that you tried to reach does not")
    assert "https://support.google.com/mail/?p=NoSuchUser" in gmail.dsn_diag
    assert "recipient's email address for typos or unnecessary spaces." in gmail.dsn_diag
    unknown_domain = next(r for r in records if r.bounce_cat == "bad-domain")
    assert unknown_domain.dlv_destination_ip == ""
    assert unknown_domain.dlv_size is None
    assert "dlvEsmtpAvailable" not in unknown_domain.extra


def test_it_returns_frozen_accounting_records():
    (record,) = _records(_csv(HEADER, D_ROW))
    assert type(record) is AccountingRecord
    with pytest.raises(dataclasses.FrozenInstanceError):
        record.rcpt = "other@example.com"  # type: ignore[misc]
    assert record == AccountingRecord(**{f.name: getattr(record, f.name) for f in dataclasses.fields(record)})


# --- column mapping ----------------------------------------------------------------------------------


def test_it_maps_reordered_columns_to_the_same_records():
    rows = list(csv.reader(io.StringIO((FIXTURES / "acct-2025-07-11-0000.csv").read_text())))
    reordered = io.StringIO()
    writer = csv.writer(reordered, lineterminator="\n")
    for row in rows:
        writer.writerow(row[::-1])
    original = _records((FIXTURES / "acct-2025-07-11-0000.csv").read_bytes(), final=True)
    shuffled = _records(reordered.getvalue().encode(), final=True)
    assert shuffled == original
    assert [r.fingerprint for r in shuffled] == [r.fingerprint for r in original]


def test_it_reads_a_subset_of_columns_and_extra_header_columns():
    header = "rcpt,type,header_Message-Id,timeLogged,header_X-Mw-Campaign-Uid,bounceCat,jobId,header_X-Job"
    row = "bob@Gmail.com,b,<abc@mail.example>,2025-07-10 11:58:57+0300,cmp123,bad-mailbox,job-9,mw-cmp123"
    (record,) = _records(_csv(header, row))
    assert record.type == "b"
    assert record.rcpt_domain == "gmail.com"
    assert record.message_id == "<abc@mail.example>"
    assert record.time_queued is None
    assert record.dsn_diag == ""
    assert record.extra == {"header_X-Mw-Campaign-Uid": "cmp123", "header_X-Job": "mw-cmp123"}
    assert campaign_from(record, "header_X-Mw-Campaign-Uid") == "cmp123"
    assert campaign_from(record, "header_x-mw-campaign-uid") == "cmp123"
    assert campaign_from(record, "header_X-Campaign-Uid") == ""
    assert campaign_from(record, "jobId") == "job-9"
    assert campaign_from(record, "envId") == ""
    assert campaign_from(record, "header_Message-Id") == "<abc@mail.example>"
    with pytest.raises(ValueError, match="campaign source"):
        campaign_from(record, "subject")


def test_it_reads_feedback_loop_rows():
    header = (
        "type,timeLogged,repSourceIp,feedbackType,format,userAgent,envId,orig,rcpt,reportingMta,"
        "dlvSourceIp,reportedDomain,header_From,header_Return-Path,header_X-job,header_Subject"
    )
    row = (
        "f,2025-07-12 10:00:00+0000,98.136.1.1,abuse,arf,Yahoo!-Mail-Feedback/2.0,env-1,b@mail.example,"
        'u@yahoo.com,feedback.yahoo.com,203.0.113.10,mail.example,"News <n@mail.example>",b@mail.example,'
        "job-42,Hello"
    )
    (record,) = _records(_csv(header, row))
    assert (record.type, record.feedback_type, record.reporting_mta) == ("f", "abuse", "feedback.yahoo.com")
    assert record.dlv_source_ip == "203.0.113.10"
    assert campaign_from(record, "header_X-Job") == "job-42"


def test_it_has_no_domain_without_an_at_sign():
    (record,) = _records(_csv("type,timeLogged,rcpt", "d,2025-07-10 11:58:57,postmaster"))
    assert record.rcpt_domain == ""


# --- times ---------------------------------------------------------------------------------------------


def test_it_parses_epoch_and_naive_times_as_aware():
    data = _csv("type,timeLogged,timeQueued", "d,1752137937,1752137935", "d,2025-07-10 11:58:57,")
    epoch, naive = _records(data)
    assert epoch.time_logged == datetime(2025, 7, 10, 8, 58, 57, tzinfo=UTC)
    assert epoch.time_queued == datetime(2025, 7, 10, 8, 58, 55, tzinfo=UTC)
    assert naive.time_logged == datetime(2025, 7, 10, 11, 58, 57, tzinfo=UTC)
    assert naive.time_queued is None
    assert all(r.time_logged.tzinfo is not None for r in (epoch, naive))


def test_it_parses_other_offsets():
    (record,) = _records(_csv("type,timeLogged", "d,2025-07-10 11:58:57-0500"))
    assert record.time_logged.utcoffset() == -timedelta(hours=5)
    assert record.time_logged.tzinfo == timezone(-timedelta(hours=5))


def test_it_rejects_a_bad_date_and_keeps_going():
    data = _csv("type,timeLogged", "d,2025-13-45 00:00:00", "d,2025-07", "d,2025-07-10 11:58:57")
    bad, short, good = _results(data)
    assert (bad.line, bad.record) == (2, None)
    assert bad.error == "bad timeLogged '2025-13-45 00:00:00'"
    assert short.error == "bad timeLogged '2025-07'"
    assert good.record is not None and good.line == 4


def test_it_rejects_bad_dlv_size_unknown_type_and_missing_time():
    data = _csv("type,timeLogged,dlvSize", "d,1752137937,12kb", "x,1752137937,", "d,,", "d,1752137937,7")
    size, kind, time, good = _results(data)
    assert size.error == "bad dlvSize '12kb'"
    assert kind.error == "unknown record type 'x'"
    assert time.error == "bad timeLogged ''"
    assert good.record.dlv_size == 7


@pytest.mark.parametrize("kind", ["d", "b", "t", "tq", "r", "rb", "rs", "f"])
def test_it_accepts_every_pmta_record_type(kind):
    (record,) = _records(_csv("type,timeLogged", f"{kind},1752137937"))
    assert record.type == kind


# --- framing: gz, CRLF, bad rows, partial lines, resume ------------------------------------------------


def test_it_opens_gzip_by_magic_bytes(tmp_path):
    plain = (FIXTURES / "acct-2025-07-10-0000.csv").read_bytes()
    packed = tmp_path / "acct-no-suffix"
    packed.write_bytes(gzip.compress(plain))
    with open_accounting(packed) as stream:
        from_gz = [r.record for r in iter_rows(stream, final=True)]
    assert from_gz == _records(plain, final=True)


def test_it_reads_crlf_files_with_byte_exact_offsets():
    data = (FIXTURES / "acct-2025-07-12-0000.csv").read_bytes().replace(b"\n", b"\r\n")
    results = _results(data, final=True)
    assert [r.record for r in results] == _records(
        (FIXTURES / "acct-2025-07-12-0000.csv").read_bytes(), final=True
    )
    line_ends = [i + 1 for i, byte in enumerate(data) if byte == ord("\n")]
    assert [r.end_offset for r in results] == line_ends[1:]
    assert [r.line for r in results] == list(range(2, 12))


def test_it_rejects_a_row_with_too_many_fields_and_parses_the_next():
    data = _csv(HEADER, D_ROW, D_ROW + ",extra,extra", B_ROW)
    first, bad, after = _results(data)
    assert first.record is not None
    assert (bad.line, bad.record, bad.error) == (3, None, "expected 23 fields, got 25")
    assert bad.describe() == "line 3: expected 23 fields, got 25"
    assert after.line == 4 and after.record.type == "b"


def test_it_rejects_invalid_utf8_and_parses_the_next():
    data = _csv(HEADER, D_ROW) + D_ROW.replace("Hassan", "H\xe9ssan").encode("latin-1") + b"\n" + _csv(B_ROW)
    first, bad, after = _results(data)
    assert first.record is not None
    assert (bad.line, bad.error) == (3, "rcpt is not valid UTF-8")
    assert after.record.type == "b" and after.line == 4
    assert after.end_offset == len(data)


def test_it_keeps_valid_non_ascii_text():
    data = _csv("type,timeLogged,dsnDiag", 'b,1752137937,"smtp;550 Empfänger unbekannt\u2028 \u2013 nø"')
    (record,) = _records(data)
    assert record.dsn_diag == "smtp;550 Empfänger unbekannt\u2028 \u2013 nø"


def test_it_leaves_a_truncated_last_line_for_the_next_import():
    complete = _csv(HEADER, D_ROW)
    data = complete + B_ROW[:40].encode()
    reader = iter_rows(io.BytesIO(data))
    results = list(reader)
    assert [r.line for r in results] == [2]
    assert reader.end_offset == len(complete) == results[-1].end_offset
    # PMTA finishes the line; the next import resumes where the last one stopped.
    data = complete + _csv(B_ROW)
    resumed = list(iter_rows(io.BytesIO(data), start_offset=reader.end_offset))
    assert [(r.line, r.record.type) for r in resumed] == [(3, "b")]


def test_it_parses_a_truncated_last_line_when_final():
    data = _csv(HEADER, D_ROW) + B_ROW.encode()
    results = _results(data, final=True)
    assert [r.record.type for r in results] == ["d", "b"]
    assert results[-1].end_offset == len(data)
    cut = _csv(HEADER, D_ROW) + B_ROW[:40].encode()
    bad = _results(cut, final=True)[-1]
    assert bad.line == 3 and bad.error is not None


def test_it_handles_quoted_newlines_and_an_unterminated_quote_at_eof():
    data = _csv(HEADER, D_ROW.replace("smtp;250 2.0.0 OK - gsmtp", '"smtp;250 2.0.0\nOK - gsmtp"'), B_ROW)
    first, _second = _records(data)
    assert first.dsn_diag == "smtp;250 2.0.0\nOK - gsmtp"
    assert _results(data)[1].line == 4
    # an open quote at EOF may be PMTA mid-write: not consumed unless final
    opened = _csv(HEADER, D_ROW, 'b,1752137937,,a@b,"c@d\nmore')
    reader = iter_rows(io.BytesIO(opened))
    assert [r.line for r in reader] == [2]
    assert reader.end_offset == len(_csv(HEADER, D_ROW))
    last = _results(opened, final=True)[-1]
    assert (last.line, last.error) == (3, "unterminated quoted field at end of file")


def test_it_skips_blank_lines_and_a_repeated_header():
    data = _csv(HEADER, D_ROW, "", HEADER, B_ROW)
    results = _results(data)
    assert [(r.line, r.record.type) for r in results] == [(2, "d"), (5, "b")]


def test_it_resumes_from_a_mid_file_offset(tmp_path):
    path = FIXTURES / "acct-2025-07-11-0000.csv"
    everything = _results(path.read_bytes(), final=True)
    checkpoint = everything[19]
    with open(path, "rb") as stream:
        rest = list(iter_rows(stream, start_offset=checkpoint.end_offset, final=True))
    assert [(r.line, r.end_offset, r.record) for r in rest] == [
        (r.line, r.end_offset, r.record) for r in everything[20:]
    ]
    # with the line known, no counting pass; same answer
    with open(path, "rb") as stream:
        fast = list(
            iter_rows(stream, start_offset=checkpoint.end_offset, start_line=checkpoint.line + 1, final=True)
        )
    assert [(r.line, r.record) for r in fast] == [(r.line, r.record) for r in rest]
    # gzip: decompress and skip
    packed = tmp_path / "acct.csv.gz"
    packed.write_bytes(gzip.compress(path.read_bytes()))
    with open_accounting(packed) as stream:
        from_gz = list(iter_rows(stream, start_offset=checkpoint.end_offset, final=True))
    assert [(r.line, r.record) for r in from_gz] == [(r.line, r.record) for r in rest]


def test_it_refuses_an_offset_that_is_not_a_line_start():
    data = _csv(HEADER, D_ROW, B_ROW)
    with pytest.raises(ValueError, match="not at the start of a line"):
        iter_rows(io.BytesIO(data), start_offset=len(_csv(HEADER, D_ROW)) + 5)
    with pytest.raises(ValueError, match="not at the start of a line"):
        iter_rows(io.BytesIO(data), start_offset=len(_csv(HEADER, D_ROW)) + 5, start_line=3)


def test_it_uses_a_given_header_for_a_headerless_stream():
    body = _csv(D_ROW, B_ROW)
    results = list(iter_rows(io.BytesIO(body), header=HEADER.split(","), start_offset=len(_csv(D_ROW))))
    assert [(r.line, r.record.type) for r in results] == [(2, "b")]


def test_it_tracks_offsets_across_read_chunks(monkeypatch):
    monkeypatch.setattr(parser, "_CHUNK", 97)
    data = (FIXTURES / "acct-2025-07-11-0000.csv").read_bytes()
    results = _results(data, final=True)
    line_ends = [i + 1 for i, byte in enumerate(data) if byte == ord("\n")]
    assert [r.end_offset for r in results] == line_ends[1:]
    assert [r.line for r in results] == list(range(2, 50))
    assert [r.record for r in results] == [r.record for r in _results(data, final=True)]


def test_it_raises_header_errors():
    with pytest.raises(HeaderError) as empty:
        iter_rows(io.BytesIO(b""))
    assert empty.value.incomplete
    with pytest.raises(HeaderError) as partial:
        iter_rows(io.BytesIO(b"type,timeLo"))
    assert partial.value.incomplete
    with pytest.raises(HeaderError, match="no 'type' column") as missing:
        iter_rows(io.BytesIO(b"timeLogged,rcpt\n1752137937,a@b\n"))
    assert not missing.value.incomplete
    with pytest.raises(HeaderError) as final_empty:
        iter_rows(io.BytesIO(b""), final=True)
    assert not final_empty.value.incomplete


def test_it_strips_a_byte_order_mark_from_the_header():
    reader = iter_rows(io.BytesIO(b"\xef\xbb\xbf" + _csv(HEADER, D_ROW)))
    assert reader.header[0] == "type"
    assert [r.record.type for r in reader] == ["d"]


# --- JSON / NDJSON -------------------------------------------------------------------------------------


def _as_object(row_text: str, *, drop_empty: bool = True, ints: bool = False) -> dict:
    names = HEADER.split(",")
    values = next(csv.reader([row_text]))
    obj: dict = {}
    for name, value in reversed(list(zip(names, values, strict=True))):
        if drop_empty and not value:
            continue
        obj[name] = int(value) if ints and value.isdigit() else value
    return obj


def test_it_gives_csv_and_json_the_same_fingerprint():
    from_csv = _records(_csv(HEADER, D_ROW, B_ROW))
    objects = [_as_object(D_ROW, ints=True), _as_object(B_ROW, drop_empty=False)]
    from_json = [r.record for r in iter_objects(objects)]
    assert [r.fingerprint for r in from_json] == [r.fingerprint for r in from_csv]
    assert from_json == from_csv
    other = dict(objects[0], rcpt="someone-else@example.com")
    assert next(iter(iter_objects([other]))).record.fingerprint != from_csv[0].fingerprint


def test_it_distinguishes_records_that_differ_in_one_field():
    a, b = _records(_csv(HEADER, D_ROW, D_ROW.replace("11:58:57", "11:58:58")))
    assert a.fingerprint != b.fingerprint


def test_it_rejects_bad_json_items_with_reasons():
    items = [
        {"type": "d", "timeLogged": "2025-07-10 11:58:57+0300", "rcpt": "a@b.example"},
        ["not", "an", "object"],
        {"type": "d", "timeLogged": "yesterday"},
        {"type": "d", "timeLogged": 1752137937, "rcpt": {"nested": True}},
        {"rcpt": "a@b.example"},
        {"type": "b", "timeLogged": 1752137937.0, "bounceCat": "bad-mailbox", "header_Message-ID": "<m@x>"},
    ]
    results = list(iter_objects(items))
    assert [r.line for r in results] == [1, 2, 3, 4, 5, 6]
    assert results[0].record.rcpt_domain == "b.example"
    assert results[1].error == "expected an object, got list"
    assert results[2].error == "bad timeLogged 'yesterday'"
    assert results[3].error == "field 'rcpt': expected a string or number, got dict"
    assert results[4].error == "missing 'type'"
    assert results[5].record.message_id == "<m@x>"
    assert results[5].end_offset == 0


def test_it_parses_ndjson_and_json_array_bodies():
    lines = [json.dumps({"type": "d", "timeLogged": 1752137937}), "", "{not json", json.dumps({"type": "t"})]
    results = list(iter_objects(parse_ndjson("\n".join(lines).encode())))
    assert [(r.line, r.error is None) for r in results] == [(1, True), (3, False), (4, False)]
    assert results[1].error.startswith("not valid JSON")
    assert results[2].error == "bad timeLogged ''"
    array = parse_json_array(b'[{"type": "d", "timeLogged": "1752137937"}]')
    assert next(iter(iter_objects(array))).record.type == "d"
    with pytest.raises(BodyError):
        parse_json_array(b"{oops")
    with pytest.raises(BodyError):
        parse_json_array(b'"just a string"')
    with pytest.raises(BodyError):
        parse_ndjson(b"")
    with pytest.raises(BodyError):
        parse_ndjson(b"\xff\xfe garbage")
    with pytest.raises(BodyError):
        parse_ndjson("type,timeLogged\nd,1752137937\n")
