"""PowerMTA accounting records: CSV files/pipes and JSON bodies into ``AccountingRecord`` objects.

Pure Python + stdlib on purpose: the importer, the webhook view and the benchmarks all use it, and it
has to run at close to ``csv.reader`` speed. Columns are always mapped by header name, because
``record-fields`` changes both the set and the order of columns (PMTA-NOTES section 1).
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, fields, make_dataclass
from datetime import UTC, datetime
from hashlib import sha256
from itertools import accumulate, chain
from operator import itemgetter
from pathlib import Path
from typing import BinaryIO

__all__ = [
    "FIELD_MAX",
    "RECORD_TYPES",
    "STRICT_FIELDS",
    "AccountingReader",
    "AccountingRecord",
    "BodyError",
    "HeaderError",
    "HeldRecord",
    "JsonArrayItems",
    "RowError",
    "RowResult",
    "StageFactory",
    "campaign_field",
    "campaign_from",
    "iter_object_stage",
    "iter_objects",
    "iter_rows",
    "open_accounting",
    "parse_json_array",
    "parse_ndjson",
    "parse_time",
]

# The columns PMTA 5.x writes with the default `record-fields` for d and b records (PMTA-NOTES section 1).
PMTA5_DEFAULT_HEADER = (
    "type",
    "timeLogged",
    "timeQueued",
    "orig",
    "rcpt",
    "orcpt",
    "dsnAction",
    "dsnStatus",
    "dsnDiag",
    "dsnMta",
    "bounceCat",
    "srcType",
    "srcMta",
    "dlvType",
    "dlvSourceIp",
    "dlvDestinationIp",
    "dlvEsmtpAvailable",
    "dlvSize",
    "vmta",
    "jobId",
    "envId",
    "queue",
    "vmtaPool",
)

RECORD_TYPES = frozenset({"d", "b", "t", "tq", "r", "rb", "rs", "f"})

# Big enough that per-chunk overhead vanishes, small enough that a growing file is picked up quickly.
_CHUNK = 1 << 20
_GZIP_MAGIC = b"\x1f\x8b"
_BOM = "\ufeff"


class HeaderError(ValueError):
    """The stream has no usable header line (empty, incomplete, or no ``type`` column).

    ``incomplete`` is True when the header may still arrive (an empty file or a header line without its
    newline, read with ``final=False``): PMTA has just opened the file, so try again later.
    """

    def __init__(self, message: str, *, incomplete: bool = False) -> None:
        super().__init__(message)
        self.incomplete = incomplete


class BodyError(ValueError):
    """A webhook body that cannot be parsed at all (as opposed to individual bad records)."""


class _RowError(Exception):
    """One record is invalid; the message is the human reason."""

    kind = "rejected"


RowError = _RowError  # raised by stage builders (see AccountingReader.stage_rows)


class HeldRecord(_RowError):
    """A valid record that must not be credited as sent: its sending IP belongs to another server than
    the one that reported it. Kept aside like a rejection, under its own kind, for an operator."""

    kind = "mismatch"


@dataclass(frozen=True, slots=True)
class AccountingRecord:
    """One PMTA accounting record, independent of column order and of CSV vs JSON input.

    String fields are '' when the column is absent or empty; times are timezone-aware. ``extra`` keeps
    every other non-empty field by its PMTA name (``srcType``, ``dlvEsmtpAvailable``, ``header_X-Job``).
    ``fingerprint`` (32 hex chars, sha256 prefix) digests all non-empty (field, value) pairs, so the same
    record re-sent, in another column order or as JSON, gets the same fingerprint.
    """

    type: str
    time_logged: datetime
    time_queued: datetime | None
    orig: str
    rcpt: str
    rcpt_domain: str
    orcpt: str
    dsn_action: str
    dsn_status: str
    dsn_diag: str
    dsn_mta: str
    bounce_cat: str
    src_mta: str
    dlv_source_ip: str
    dlv_destination_ip: str
    dlv_size: int | None
    vmta: str
    vmta_pool: str
    job_id: str
    env_id: str
    queue: str
    message_id: str
    feedback_type: str
    reporting_mta: str
    extra: dict[str, str] = field(hash=False)
    fingerprint: str


# A frozen dataclass __init__ pays one object.__setattr__ call per field: ~3 us for these 26 fields,
# as much as csv.reader spends on a whole row. So records are built as this mutable twin with the very
# same slots and then retyped (same layout, so Python allows it): a genuine, immutable AccountingRecord.
_RecordBuilder = make_dataclass(
    "_RecordBuilder", [(f.name, f.type) for f in fields(AccountingRecord)], slots=True, eq=False
)


# Makes a row builder for one header: see AccountingReader.stage_rows.
StageFactory = Callable[["_Mapper"], Callable[[list[str]], tuple]]


@dataclass(slots=True)
class RowResult:
    """One record's outcome: ``record`` or ``error`` (a reason without the line number) is set.

    ``end_offset`` is the byte offset just after the record in the (decompressed) stream: resume there.
    A refused record carries its bytes as read (``raw``, CSV only: JSON items are cut out of the body
    by the importer when needed) and ``kind``: ``rejected``, or ``mismatch`` for a HeldRecord.
    """

    line: int
    end_offset: int
    record: AccountingRecord | None
    error: str | None
    raw: bytes = b""
    kind: str = "rejected"

    def describe(self) -> str:
        return f"line {self.line}: {self.error}" if self.error else f"line {self.line}: ok"


# PMTA field name -> position in the tuple that _Mapper extracts. header_Message-Id is looked up
# case-insensitively with everything else, since header_* names keep the case the operator typed.
_KNOWN_FIELDS = (
    "type",
    "timeLogged",
    "timeQueued",
    "orig",
    "rcpt",
    "orcpt",
    "dsnAction",
    "dsnStatus",
    "dsnDiag",
    "dsnMta",
    "bounceCat",
    "srcMta",
    "dlvSourceIp",
    "dlvDestinationIp",
    "dlvSize",
    "vmta",
    "vmtaPool",
    "jobId",
    "envId",
    "queue",
    "header_Message-Id",
    "feedbackType",
    "reportingMta",
)
_N_KNOWN = len(_KNOWN_FIELDS)

# Fingerprint layout: the values of these fields in this fixed order ('' when absent or empty), then
# (lower-cased name, value) pairs of any other non-empty field, sorted by name. That is an exact
# encoding of "the sorted non-empty (field, value) pairs", so column order, name case and CSV vs JSON
# don't change it, but the common fields cost one C-level join instead of a per-field Python loop.
# Fingerprints are stored for de-duplication: NEVER reorder or extend this tuple.
_FP_FIXED = (
    *_KNOWN_FIELDS,
    "srcType",
    "dlvType",
    "dlvEsmtpAvailable",
    "timeImprinted",
    "repSourceIp",
    "format",
    "userAgent",
    "reportedDomain",
    "rcvSmtpUser",
    "dlvTlsProtocol",
    "dlvTlsCipher",
)
_FP_FIXED_LOWER = {name.lower(): pos for pos, name in enumerate(_FP_FIXED)}

# Fields that identify, date or attribute a record (lower-cased). Bytes that are not UTF-8 in one of
# them make the record unusable, so it is rejected. Everywhere else (dsnDiag, dsnStatus, dsnMta,
# header_Subject ...) the text is free text: bad bytes become U+FFFD and the record still counts, so a
# hard bounce with one odd byte in its diagnostic still suppresses its address.
STRICT_FIELDS = frozenset(
    name.lower()
    for name in (
        "type",
        "timeLogged",
        "timeQueued",
        "orig",
        "rcpt",
        "orcpt",
        "dlvSourceIp",
        "dlvDestinationIp",
        "dlvSize",
        "vmta",
        "vmtaPool",
        "jobId",
        "envId",
        "queue",
        "bounceCat",
        "feedbackType",
        "header_Message-Id",
        "repSourceIp",
    )
)
# Lone surrogates: undecodable bytes (decoded with surrogateescape) or \udcXX escapes in JSON.
_SURROGATES = re.compile("[\ud800-\udfff]")


# --- times -----------------------------------------------------------------------------------------

# Many records share a second, so a small memo beats parsing every row; cleared when it grows.
_TIME_CACHE: dict[str, datetime] = {}
_TIME_CACHE_MAX = 50_000


def _parse_time_uncached(value: str) -> datetime:
    if value.isdigit():  # iso-times no: epoch seconds
        return datetime.fromtimestamp(int(value), UTC)
    # fromisoformat also takes week dates and bare dates; insist on PMTA's "YYYY-MM-DD HH:MM:SS" shape.
    if len(value) < 19 or value[4] != "-" or value[10] not in " T":
        raise ValueError(value)
    parsed = datetime.fromisoformat(value)
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def parse_time(value: str) -> datetime:
    """Parse a PMTA time (``2025-07-10 11:58:57+0300``, naive = UTC, or epoch seconds); always aware.

    Raises ValueError for anything else.
    """
    parsed = _TIME_CACHE.get(value)
    if parsed is None:
        try:
            parsed = _parse_time_uncached(value)
        except (ValueError, OverflowError, OSError):
            raise ValueError(f"bad time {value!r}") from None
        if len(_TIME_CACHE) >= _TIME_CACHE_MAX:
            _TIME_CACHE.clear()
        _TIME_CACHE[value] = parsed
    return parsed


def _field_time(value: str, name: str) -> datetime:
    try:
        return parse_time(value)
    except ValueError:
        raise _RowError(f"bad {name} {value!r}") from None


# --- column mapping --------------------------------------------------------------------------------


def _getter(indices: list[int]):
    """itemgetter that always returns a tuple (itemgetter(i) alone returns the bare item)."""
    if not indices:
        return lambda row: ()
    if len(indices) == 1:
        only = indices[0]
        return lambda row: (row[only],)
    return itemgetter(*indices)


class _Mapper:
    """Turns one row (list of str, in header order) into an AccountingRecord.

    Everything that depends only on the header is computed once here, so the per-row work is a few
    C-level itemgetter calls plus the fields that need converting.
    """

    __slots__ = (
        "_extra",
        "_extra_names",
        "_fixed",
        "_other",
        "_other_names",
        "header",
        "positions",
        "width",
    )

    def __init__(self, header: list[str]) -> None:
        self.header = header
        self.width = len(header)
        lowered = [name.lower() for name in header]
        if "type" not in lowered:
            raise HeaderError(f"header has no 'type' column: {','.join(header)[:200]!r}")
        # Lower-cased name -> column; the first of duplicate columns wins.
        self.positions: dict[str, int] = {}
        for idx, name in enumerate(lowered):
            self.positions.setdefault(name, idx)
        # Absent fixed fields point at a sentinel '' that build() appends after the last column.
        positions = [self.positions.get(name, self.width) for name in _FP_FIXED_LOWER]
        self._fixed = itemgetter(*positions)
        fixed_idx = set(positions)
        other_idx = sorted(
            (idx for idx in range(self.width) if idx not in fixed_idx), key=lambda idx: (lowered[idx], idx)
        )
        self._other = _getter(other_idx)
        self._other_names = tuple(lowered[idx] + "\x1f" for idx in other_idx)
        known_idx = set(positions[:_N_KNOWN])
        extra_idx = [idx for idx in range(self.width) if idx not in known_idx and header[idx]]
        self._extra = _getter(extra_idx)
        self._extra_names = tuple(header[idx] for idx in extra_idx)

    def fingerprint_parts(self) -> tuple[Callable[[list[str]], tuple], bool]:
        """(getter of the fixed fingerprint fields, whether other_fingerprint_text is needed).

        The getter takes a row with the '' sentinel appended; for the stage builder, which inlines this.
        """
        return self._fixed, bool(self._other_names)

    def other_fingerprint_text(self, row: list[str]) -> str:
        return "\x1d" + "\x1e".join(
            [name + value for name, value in zip(self._other_names, self._other(row), strict=True) if value]
        )

    def repair(self, row: list[str], strict: frozenset[str] = STRICT_FIELDS) -> list[str]:
        """``row`` (without the sentinel) with bad bytes in free-text fields replaced by U+FFFD.

        For a row whose text cannot be encoded (lone surrogates, see _SURROGATES). Raises RowError when
        they sit in a field named in ``strict`` or in a field name.
        """
        repaired = []
        for name, value in zip(self.header, row, strict=True):
            if _SURROGATES.search(name):
                raise _RowError(f"field name {name.encode(errors='replace')!r} is not valid UTF-8")
            if not value.isascii() and _SURROGATES.search(value):
                if name.lower() in strict:
                    raise _RowError(f"{name} is not valid UTF-8")
                value = _SURROGATES.sub("\ufffd", value)
            repaired.append(value)
        return repaired

    def build(self, row: list[str]) -> AccountingRecord:
        if len(row) != self.width:
            raise _RowError(f"expected {self.width} fields, got {len(row)}")
        row.append("")
        fixed = self._fixed(row)
        fp_text = "\x1e".join(fixed)
        if self._other_names:
            fp_text += self.other_fingerprint_text(row)
        try:
            fingerprint = sha256(fp_text.encode()).hexdigest()[:32]
        except UnicodeEncodeError:  # bytes that were not UTF-8 somewhere in the row
            row.pop()
            return self.build(self.repair(row))
        (
            rtype,
            logged,
            queued,
            orig,
            rcpt,
            orcpt,
            dsn_action,
            dsn_status,
            dsn_diag,
            dsn_mta,
            bounce_cat,
            src_mta,
            dlv_source_ip,
            dlv_destination_ip,
            dlv_size,
            vmta,
            vmta_pool,
            job_id,
            env_id,
            queue,
            message_id,
            feedback_type,
            reporting_mta,
        ) = fixed[:_N_KNOWN]
        if rtype not in RECORD_TYPES:
            raise _RowError(f"unknown record type {rtype!r}" if rtype else "empty record type")
        time_logged = _TIME_CACHE.get(logged) or _field_time(logged, "timeLogged")
        time_queued = (_TIME_CACHE.get(queued) or _field_time(queued, "timeQueued")) if queued else None
        if dlv_size:
            if not dlv_size.isdigit():
                raise _RowError(f"bad dlvSize {dlv_size!r}")
            size = int(dlv_size)
        else:
            size = None
        _, at, domain = rcpt.rpartition("@")
        extra = {
            name: value for name, value in zip(self._extra_names, self._extra(row), strict=True) if value
        }
        record = _RecordBuilder(
            rtype,
            time_logged,
            time_queued,
            orig,
            rcpt,
            domain.lower() if at else "",
            orcpt,
            dsn_action,
            dsn_status,
            dsn_diag,
            dsn_mta,
            bounce_cat,
            src_mta,
            dlv_source_ip,
            dlv_destination_ip,
            size,
            vmta,
            vmta_pool,
            job_id,
            env_id,
            queue,
            message_id,
            feedback_type,
            reporting_mta,
            extra,
            fingerprint,
        )
        record.__class__ = AccountingRecord
        return record


# --- CSV streams -----------------------------------------------------------------------------------


def open_accounting(path: str | Path) -> BinaryIO:
    """Open an accounting file for reading as bytes; gzip is detected by its magic bytes, not the name."""
    with open(path, "rb") as probe:
        magic = probe.read(2)
    if magic == _GZIP_MAGIC:
        return gzip.open(path, "rb")  # type: ignore[return-value]
    return open(path, "rb")


def _split_header(raw: bytes) -> list[str]:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise HeaderError("header line is not valid UTF-8") from None
    text = text.removeprefix(_BOM)
    rows = [row for row in csv.reader([text]) if row]
    if not rows:
        raise HeaderError("empty header line")
    return [name.strip() for name in rows[0]]


def _read_header_line(stream: BinaryIO, final: bool) -> bytes:
    raw = stream.readline()
    if not raw:
        raise HeaderError("empty file: no header line", incomplete=not final)
    if not raw.endswith(b"\n") and not final:
        raise HeaderError("header line is not complete yet", incomplete=True)
    return raw


def _advance(stream: BinaryIO, count: int, *, need_lines: bool) -> int:
    """Move ``count`` bytes forward; return the newlines passed (-1 if not counted).

    Seeks when it can and the caller already knows the line number; otherwise reads through (gzip
    must decompress anyway). Raises ValueError when the target is not just after a newline, because a
    checkpoint from another (rotated or rewritten) file would otherwise resume mid-record.
    """
    if not need_lines and stream.seekable() and not isinstance(stream, gzip.GzipFile):
        stream.seek(count - 1, io.SEEK_CUR)
        last, newlines = stream.read(1), -1
    else:
        newlines, last = 0, b""
        while count > 0:
            block = stream.read(min(count, _CHUNK))
            if not block:
                raise ValueError("start_offset is past the end of the stream")
            newlines += block.count(b"\n")
            count -= len(block)
            last = block[-1:]
    if last != b"\n":
        raise ValueError("start_offset is not at the start of a line")
    return newlines


# Characters str.splitlines breaks on but bytes.splitlines and csv do not.
_ODD_BREAKS_ASCII = "\x0b\x0c\x1c\x1d\x1e"
_ODD_BREAKS = re.compile("[\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")


def _has_odd_breaks(text: str) -> bool:
    if text.isascii():
        return any(char in text for char in _ODD_BREAKS_ASCII)
    return _ODD_BREAKS.search(text) is not None


class _Feed:
    """Decoded lines for the single csv.reader, plus what is needed to map reader.line_num to bytes.

    Lines are read in big chunks cut at the last newline: one decode and one splitlines per chunk keep
    per-line Python work out of the hot loop. ``ends[i]`` is the byte offset after line
    ``first_line + i``; only the chunk currently being read by csv is kept.
    """

    __slots__ = ("ends", "exhausted", "final", "first_line", "kept", "offset", "stream")

    def __init__(self, stream: BinaryIO, offset: int, first_line: int, final: bool) -> None:
        self.stream = stream
        self.offset = offset
        self.first_line = first_line
        self.final = final
        self.ends: list[int] = [offset]
        self.exhausted = False
        # (start offset, bytes) of the current chunk and the one before: a refused record's raw bytes.
        self.kept: list[tuple[int, bytes]] = []

    def chunks(self) -> Iterator[list[str]]:
        stream = self.stream
        leftover = b""
        line = self.first_line
        while True:
            data = stream.read(_CHUNK)
            if not data:
                break
            if leftover:
                data = leftover + data
            cut = data.rfind(b"\n") + 1
            leftover = data[cut:]
            if cut:
                yield self._chunk(data[:cut] if leftover else data, line)
                line = self.first_line + len(self.ends) - 1
        # A last line without newline is PMTA mid-write unless the caller says the file is complete.
        if leftover and self.final:
            yield self._chunk(leftover, line)
        self.exhausted = True

    def _chunk(self, data: bytes, first_line: int) -> list[str]:
        self.first_line = first_line
        self.kept = [*self.kept[-1:], (self.offset, data)]
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            text = None
        if text is None or _has_odd_breaks(text):
            lines, raw_lines = self._split_by_line(data, first_line)
        else:
            # str.splitlines and bytes.splitlines agree (LF, CRLF, CR) once odd breaks are ruled out,
            # so csv sees exactly the lines whose byte lengths are counted.
            lines, raw_lines = text.splitlines(True), data.splitlines(True)
        self.ends = list(accumulate(map(len, raw_lines), initial=self.offset))
        self.offset = self.ends[-1]
        return lines

    def _split_by_line(self, data: bytes, first_line: int) -> tuple[list[str], list[bytes]]:
        raw_lines = data.splitlines(True)
        # Bytes that are not UTF-8 become lone surrogates; the row builder then rejects the record or
        # replaces them, depending on the field they are in (STRICT_FIELDS).
        return [raw.decode("utf-8", errors="surrogateescape") for raw in raw_lines], raw_lines

    def raw(self, start: int, end: int) -> bytes:
        """The stream's bytes from ``start`` to ``end`` while they are in the kept chunks (else b'')."""
        for chunk_start, data in reversed(self.kept):
            if chunk_start <= start:
                piece = data[start - chunk_start : end - chunk_start]
                if end > chunk_start + len(data) and data is not self.kept[-1][1]:
                    later_start, later = self.kept[-1]
                    piece += later[: end - later_start]
                return piece
        return b""

    def end_of(self, line: int) -> int:
        return self.ends[line - self.first_line + 1]


_UNTERMINATED = "unterminated quoted field at end of file"


def _record_builder(mapper: _Mapper) -> Callable[[list[str]], AccountingRecord]:
    return mapper.build


class AccountingReader:
    """Iterate an accounting CSV stream as RowResult objects; see ``iter_rows``.

    The header is read in the constructor (``.header``), so HeaderError is raised before iterating.
    ``end_offset`` / ``line`` after iteration give where the next incremental import should resume.
    """

    def __init__(
        self,
        stream: BinaryIO,
        *,
        start_offset: int = 0,
        header: list[str] | None = None,
        final: bool = False,
        start_line: int | None = None,
    ) -> None:
        self.final = final
        position, lines_done = 0, 0
        if header is None:
            raw = _read_header_line(stream, final)
            header = _split_header(raw)
            position, lines_done = len(raw), 1
        self.header: list[str] = list(header)
        self._mapper = _Mapper(self.header)
        if start_offset > position:
            newlines = _advance(stream, start_offset - position, need_lines=start_line is None)
            lines_done = start_line - 1 if start_line is not None else lines_done + newlines
            position = start_offset
        elif 0 < start_offset < position:
            raise ValueError(f"start_offset {start_offset} is inside the header line")
        self.end_offset = position
        self.line = lines_done
        self._feed = _Feed(stream, position, lines_done + 1, final)
        self._rows = self._generate()

    # Without a stage factory, _generate yields RowResults only.
    def __iter__(self) -> Iterator[RowResult]:
        return self._rows  # type: ignore[return-value]

    def __next__(self) -> RowResult:
        return next(self._rows)  # type: ignore[return-value]

    def stage_rows(self, factory: StageFactory) -> Iterator[tuple | RowResult]:
        """Like iterating the reader, but a good record comes out as ``factory(mapper)(row)``, a plain
        tuple, instead of a RowResult around an AccountingRecord (the importer's fast path: no object per
        record). Bad records still come out as RowResult with ``error`` set.
        """
        return self._generate(factory)

    def _generate(self, factory: StageFactory | None = None) -> Iterator[tuple | RowResult]:
        # The hot loop: kept flat (no helper calls per row) because every call shows in the benchmark.
        feed = self._feed
        reader = csv.reader(chain.from_iterable(feed.chunks()))
        staged = factory is not None
        make = factory or _record_builder
        build = make(self._mapper)
        base_line = feed.first_line - 1
        done = base_line
        while True:
            try:
                for row in reader:
                    start = done + 1
                    done = base_line + reader.line_num
                    if feed.exhausted:
                        # csv hit EOF inside a quoted field: PMTA may still be writing this record.
                        if self.final:
                            begin, self.end_offset, self.line = self.end_offset, feed.offset, done
                            yield RowResult(
                                start,
                                feed.offset,
                                None,
                                "unterminated quoted field at end of file",
                                _raw(feed, begin, feed.offset),
                            )
                        return
                    if not row:
                        continue
                    end = feed.ends[done - feed.first_line + 1]
                    begin = self.end_offset
                    self.end_offset = end
                    self.line = done
                    if row[0] == "type":
                        # Concatenated files (cat a.csv b.csv) repeat the header: re-map, not a record.
                        self.header = [name.strip() for name in row]
                        self._mapper = _Mapper(self.header)
                        build = make(self._mapper)
                    else:
                        try:
                            if staged:
                                yield build(row)  # type: ignore[misc]
                            else:
                                yield RowResult(start, end, build(row), None)  # type: ignore[arg-type]
                        except _RowError as exc:
                            yield RowResult(start, end, None, str(exc), _raw(feed, begin, end), exc.kind)
                        except Exception as exc:  # a bug must cost one record, not the whole stream
                            yield RowResult(start, end, None, _unexpected(exc), _raw(feed, begin, end))
                return
            except csv.Error as exc:
                if feed.exhausted and not self.final:
                    return  # same as above: the rest may still be on its way
                start = done + 1
                done = base_line + reader.line_num
                end = feed.end_of(done)
                begin, self.end_offset, self.line = self.end_offset, end, done
                yield RowResult(start, end, None, f"malformed CSV: {exc}", _raw(feed, begin, end))


def _raw(feed: _Feed, start: int, end: int) -> bytes:
    return feed.raw(start, end).lstrip(b"\r\n")


def _unexpected(exc: Exception) -> str:
    """The reason given for a record that broke the parser itself (a bug, kept for re-ingesting)."""
    return f"could not be read ({exc.__class__.__name__}: {exc})"[:300]


def iter_rows(
    stream: BinaryIO,
    *,
    start_offset: int = 0,
    header: list[str] | None = None,
    final: bool = False,
    start_line: int | None = None,
) -> AccountingReader:
    """Parse a PMTA accounting CSV byte stream into RowResult objects, one per record.

    - The first line is the header unless ``header`` is given (then the stream has no header line).
    - ``start_offset`` resumes at a previous ``end_offset``; the header is still read from the first
      line. Give ``start_line`` (the line after the checkpoint) to skip counting the lines before it.
    - Without ``final``, a last line lacking its newline is left for the next import and
      ``end_offset`` stops before it. With ``final=True`` it is parsed like any other line.
    - A bad record yields a RowResult with ``error`` and never stops the records after it.
    """
    return AccountingReader(
        stream, start_offset=start_offset, header=header, final=final, start_line=start_line
    )


# --- JSON / NDJSON bodies --------------------------------------------------------------------------

_MAPPER_CACHE: dict[tuple[str, ...], _Mapper] = {}

# The longest field a record may have, in characters: csv.field_size_limit()'s default (128 KiB), which
# refuses a longer CSV field, applied to JSON values too so both body types agree.
FIELD_MAX = csv.field_size_limit()


def _too_long(keys: tuple[str, ...], row: list[str]) -> str:
    name = next(key for key, value in zip(keys, row, strict=True) if len(value) > FIELD_MAX)
    return f"field {name!r} is longer than {FIELD_MAX} characters"


def _mapper_for(keys: tuple[str, ...]) -> _Mapper:
    mapper = _MAPPER_CACHE.get(keys)
    if mapper is None:
        if len(_MAPPER_CACHE) > 256:
            _MAPPER_CACHE.clear()
        mapper = _MAPPER_CACHE[keys] = _Mapper(list(keys))
    return mapper


def _json_value(name: str, value: object) -> str:
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _RowError(f"field {name!r}: expected a string or number, got {type(value).__name__}")
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value)


def _object_results(objs: Iterable[object], factory: StageFactory | None) -> Iterator[tuple | RowResult]:
    """JSON objects keyed by PMTA field names, one result per object (``line`` = 1-based item number):
    a RowResult around an AccountingRecord, or with ``factory`` the builder's tuple; a RowResult with
    ``error`` for a bad one."""
    builders: dict[_Mapper, Callable[[list[str]], object]] = {}  # for this body only
    for number, obj in enumerate(objs, start=1):
        if obj.__class__ is not dict:
            if obj is _BLANK:
                continue
            reason = (
                obj.reason if isinstance(obj, _Unparsed) else f"expected an object, got {type(obj).__name__}"
            )
            yield RowResult(number, 0, None, reason)
            continue
        keys = tuple(obj)  # JSON object keys are always str
        try:
            mapper = _MAPPER_CACHE.get(keys) or _mapper_for(keys)
        except HeaderError:
            yield RowResult(number, 0, None, "missing 'type'")
            continue
        build = builders.get(mapper)
        if build is None:
            build = builders[mapper] = (factory or _record_builder)(mapper)
        row = list(obj.values())
        try:
            if not all(map(str.__instancecheck__, row)):  # a number or null among the strings
                row = [_json_value(key, value) for key, value in zip(keys, row, strict=True)]
            if max(map(len, row), default=0) > FIELD_MAX:
                raise _RowError(_too_long(keys, row))
            built = build(row)
        except _RowError as exc:
            yield RowResult(number, 0, None, str(exc), kind=exc.kind)
        except Exception as exc:  # a bug must cost one record, not the whole body
            yield RowResult(number, 0, None, _unexpected(exc))
        else:
            yield built if factory is not None else RowResult(number, 0, built, None)  # type: ignore[misc,arg-type]


def iter_objects(objs: Iterable[object]) -> Iterator[RowResult]:
    """Turn JSON objects keyed by PMTA field names into RowResults (``line`` = 1-based item number)."""
    return _object_results(objs, None)  # type: ignore[return-value]


def iter_object_stage(objs: Iterable[object], factory: StageFactory) -> Iterator[tuple | RowResult]:
    """iter_objects for the importer's fast path: good records as ``factory(mapper)(row)`` tuples."""
    return _object_results(objs, factory)


class _Unparsed:
    """An NDJSON line that is not JSON: iter_objects rejects it with this reason."""

    __slots__ = ("reason",)

    def __init__(self, reason: str) -> None:
        self.reason = reason


# Stands for a blank NDJSON line, so item numbers stay equal to line numbers.
_BLANK = object()


def _body_text(body: str | bytes) -> str:
    """A body as text. Bytes that are not UTF-8 become lone surrogates, which the row builders reject or
    replace per field (STRICT_FIELDS), instead of refusing the whole body for one bad byte."""
    if isinstance(body, str):
        return body
    return body.decode("utf-8", errors="surrogateescape").removeprefix(_BOM)


def parse_json_array(text: str | bytes) -> list[object]:
    """Parse a JSON array body (a lone object counts as an array of one); BodyError otherwise.

    Records are flat objects, so a nested value is rejected with its record; only a body nested too
    deeply for the parser itself (Python's recursion limit, about 1,000 levels) is a BodyError.
    """
    try:
        data = json.loads(_body_text(text))
    except ValueError as exc:
        raise BodyError(f"body is not valid JSON: {exc}") from None
    except RecursionError:
        raise BodyError("body is nested too deeply to parse (records are flat JSON objects)") from None
    if isinstance(data, dict):
        return [data]
    if not isinstance(data, list):
        raise BodyError(f"expected a JSON array of objects, got {type(data).__name__}")
    return data


_JSON_SPACE = re.compile(r"[ \t\n\r]*")
_JSON_SPACE_BYTES = re.compile(rb"[ \t\n\r]*")
_BOM_BYTES = _BOM.encode()
# Between two objects of an array: where a body's items are cut apart at C speed (JsonArrayItems).
_OBJECT_GAP = re.compile(rb"\}[ \t\n\r]*,[ \t\n\r]*\{")


class JsonArrayItems:
    """The bytes of a JSON array body's items as sent, cut out on demand: a rejected record is kept
    verbatim. Only for a body parse_json_array has accepted; ``parsed`` is what it returned.

    The body's own bytes are cut at the gaps between objects (``}, {``), not a second decoded copy of
    them (one byte that is not UTF-8 makes that copy four bytes a character): split at C speed on the
    first gap's exact bytes, as a writer puts the same gap between all its items, or else at every
    gap in one regex pass. A cut item is used only when it decodes to the parsed item of the
    same number. A ``}, {`` inside a string, or an item that is not an object, makes the cut disagree;
    only then are the items walked one by one with the JSON decoder, and only as far as the item
    asked for. So a body with no rejection is never scanned, and a body with some pays one pass over
    its bytes, not a second parse.
    """

    def __init__(self, body: str | bytes, parsed: list[object]) -> None:
        self._body = body
        self._data = body if isinstance(body, bytes) else body.encode(errors="surrogateescape")
        self._parsed = parsed
        self._cut: tuple[int, Callable[[int], tuple[int, int]]] | None = None
        self._text: str | None = None  # the body decoded, for the exact walk only
        self._walked: list[tuple[int, int]] = []  # (start, end) of each item walked so far
        self._at: int | None = None

    def item(self, number: int) -> bytes:
        """Item ``number`` (1-based) as sent; b'' when there is no such item."""
        if not 0 < number <= len(self._parsed):
            return b""
        if self._cut is None:
            self._cut = self._cut_at_gaps()
        count, span = self._cut
        if count == len(self._parsed):
            start, end = span(number - 1)
            raw = self._data[start:end]
            try:
                if json.loads(raw.decode("utf-8", "surrogateescape")) == self._parsed[number - 1]:
                    return raw
            except (ValueError, RecursionError):
                pass
        start, end = self._walk_to(number)
        return self._body_text()[start:end].encode(errors="surrogateescape")

    def _cut_at_gaps(self) -> tuple[int, Callable[[int], tuple[int, int]]]:
        """(the number of items the cut found, an item's index -> its (start, end) in the bytes)."""
        data = self._data
        first = _skip_space(data, len(_BOM_BYTES) if data.startswith(_BOM_BYTES) else 0)
        last = len(data.rstrip(b" \t\n\r")) - 1
        if data[first : first + 1] != b"[":  # a lone object: the whole body
            return 1, lambda _index: (first, last + 1)
        inner_start, inner_end = _skip_space(data, first + 1), len(data[:last].rstrip(b" \t\n\r"))
        gap = _OBJECT_GAP.search(data, inner_start, inner_end)
        if gap is None:
            return int(inner_start < inner_end), lambda _index: (inner_start, inner_end)
        gap_bytes = gap.group()
        pieces = data[inner_start:inner_end].split(gap_bytes)
        if len(pieces) == len(self._parsed):
            # Piece k begins after the k pieces and k gaps before it; its item takes the "}" of the gap
            # after it and the "{" of the gap before it.
            width, ends = len(gap_bytes), list(accumulate(map(len, pieces)))

            def split_span(index: int) -> tuple[int, int]:
                start = inner_start + (ends[index - 1] + index * width - 1 if index else 0)
                end = inner_start + ends[index] + index * width
                return start, end + 1 if index < len(ends) - 1 else end

            return len(pieces), split_span
        starts, stops = [inner_start], []
        for gap in _OBJECT_GAP.finditer(data, inner_start, inner_end):
            stops.append(gap.start() + 1)
            starts.append(gap.end() - 1)
        stops.append(inner_end)
        return len(starts), lambda index: (starts[index], stops[index])

    def _body_text(self) -> str:
        if self._text is None:
            self._text = _body_text(self._body)
        return self._text

    def _skip(self, at: int) -> int:
        space = _JSON_SPACE.match(self._body_text(), at)
        return space.end() if space else at

    def _walk_to(self, number: int) -> tuple[int, int]:
        """The exact way: each item measured by the JSON decoder, from where the last walk stopped."""
        text, walked = self._body_text(), self._walked
        if self._at is None:
            at = self._skip(0)
            if text[at : at + 1] != "[":
                return (at, len(text.rstrip(" \t\n\r")))
            self._at = self._skip(at + 1)
        decoder = json.JSONDecoder()
        while len(walked) < number and self._at < len(text) and text[self._at] != "]":
            at = self._at
            end = decoder.raw_decode(text, at)[1]
            walked.append((at, end))
            at = self._skip(end)
            if text[at : at + 1] == ",":
                at = self._skip(at + 1)
            self._at = at
        return walked[number - 1] if number <= len(walked) else (0, 0)


def _skip_space(data: bytes, at: int) -> int:
    space = _JSON_SPACE_BYTES.match(data, at)
    return space.end() if space else at


def parse_ndjson(text: str | bytes) -> list[object]:
    """Parse an NDJSON body for iter_objects; item numbers equal line numbers.

    One bad line is rejected by iter_objects on its own; BodyError only when no line is JSON at all
    (wrong content type, binary garbage, empty body).
    """
    text = _body_text(text)
    items: list[object] = []
    parsed = 0
    for line in text.split("\n"):
        line = line.strip()
        if not line:
            items.append(_BLANK)
            continue
        try:
            items.append(json.loads(line))
            parsed += 1
        except ValueError as exc:
            items.append(_Unparsed(f"not valid JSON: {exc}"))
        except RecursionError:
            items.append(_Unparsed("nested too deeply to parse"))
    if not parsed:
        raise BodyError("body holds no JSON object" if text.strip() else "empty body")
    return items


# --- campaign attribution --------------------------------------------------------------------------


def campaign_field(source: str) -> str:
    """The lower-cased PMTA field a campaign source names: ``jobId``, ``envId`` or ``header_<Name>``.

    Header names match case-insensitively (MailWizz's prefix varies: X-Mw-Campaign-Uid, X-Campaign-Uid).
    Raises ValueError for anything else.
    """
    key = source.strip().lower()
    if key in ("jobid", "envid") or (key.startswith("header_") and key != "header_"):
        return key
    raise ValueError(f"campaign source must be jobId, envId or header_<Name>, not {source!r}")


def campaign_from(record: AccountingRecord, source: str) -> str:
    """The campaign key of a record per the configured source (see campaign_field); '' when the record
    does not carry it."""
    key = campaign_field(source)
    if key == "jobid":
        return record.job_id
    if key == "envid":
        return record.env_id
    if key == "header_message-id":
        return record.message_id
    for name, value in record.extra.items():
        if name.lower() == key:
            return value
    return ""
