"""Write a synthetic but realistic PowerMTA 5.x accounting file for benchmarks.

The header is PMTA 5.x's default 23-column d/b header; the rows mimic the real files in
shared/fixtures/pmta (quoted dlvEsmtpAvailable, dsnDiag with commas and URLs, empty dlv* fields on
bad-domain bounces, ``queue`` as ``domain/vmta``). A ``.gz`` path is written gzip-compressed.

Usage: python bench/gen_accounting.py OUT.csv[.gz] N_RECORDS [--seed N]
"""

from __future__ import annotations

import argparse
import csv
import gzip
import random
import sys
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import IO

# Runs as a script from bench/; the parser module it shares the header with is pure Python.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from campaigns.accounting.parser import PMTA5_DEFAULT_HEADER

HEADER = list(PMTA5_DEFAULT_HEADER)

# (domain, weight, MX host, MX IP, ESMTP extensions)
_DOMAINS = [
    (
        "gmail.com",
        40,
        "gmail-smtp-in.l.google.com",
        "142.251.173.26",
        "ENHANCEDSTATUSCODES,PIPELINING,CHUNKING,8BITMIME,SIZE,STARTTLS,SMTPUTF8",
    ),
    ("yahoo.com", 15, "mta7.am0.yahoodns.net", "67.195.228.94", "PIPELINING,8BITMIME,SIZE,STARTTLS"),
    (
        "outlook.com",
        12,
        "outlook-com.olc.protection.outlook.com",
        "52.101.68.4",
        "SIZE,PIPELINING,DSN,ENHANCEDSTATUSCODES,STARTTLS,8BITMIME,BINARYMIME,CHUNKING,SMTPUTF8",
    ),
    (
        "hotmail.com",
        8,
        "hotmail-com.olc.protection.outlook.com",
        "52.101.9.0",
        "SIZE,PIPELINING,DSN,ENHANCEDSTATUSCODES,STARTTLS,8BITMIME,BINARYMIME,CHUNKING,SMTPUTF8",
    ),
    ("aol.com", 4, "mx-aol.mail.gm0.yahoodns.net", "67.195.204.77", "PIPELINING,8BITMIME,SIZE,STARTTLS"),
    ("icloud.com", 5, "mx01.mail.icloud.com", "17.57.155.23", "PIPELINING,SIZE,STARTTLS,8BITMIME"),
    ("gmx.de", 4, "mx00.emig.gmx.net", "212.227.15.9", "SIZE,8BITMIME,PIPELINING,STARTTLS,CHUNKING"),
    ("web.de", 4, "mx-ha02.web.de", "212.227.17.8", "SIZE,8BITMIME,PIPELINING,STARTTLS,CHUNKING"),
    ("comcast.net", 4, "mx1a1.comcast.net", "96.114.157.80", "PIPELINING,SIZE,STARTTLS,8BITMIME"),
    (
        "example-corp.com",
        4,
        "mx1-hosting.jellyfish.systems",
        "162.255.118.28",
        "ENHANCEDSTATUSCODES,PIPELINING,CHUNKING,8BITMIME,SIZE,ETRN,STARTTLS",
    ),
]

_SOURCE_IPS = [f"203.0.113.{n}" for n in (10, 11, 12, 13, 14, 15, 20, 21)]
_POOLS = {ip: ("pool-a" if i < 4 else "pool-b") for i, ip in enumerate(_SOURCE_IPS)}
_SENDERS = ["news@mail.example.com", "offers@mail.example.com", "bounce@send.example.org"]
_FIRST = ["anna", "ben", "chloe", "david", "emma", "farid", "giulia", "hassan", "ines", "jon", "kim", "leo"]

# (bounceCat, dsnStatus, dsnDiag, weight) for b rows; diag texts shaped like the real ones
_BOUNCES = [
    (
        "bad-mailbox",
        "5.1.1 (bad destination mailbox address)",
        "smtp;550 5.1.1 The email account that you tried to reach does not exist. Please try double-checking "
        "the recipient's email address for typos or unnecessary spaces. For more information, go to "
        "https://support.google.com/mail/?p=NoSuchUser {tag} - gsmtp",
        45,
    ),
    (
        "bad-domain",
        "5.1.2 (bad destination system: no such domain)",
        "bad destination system: no such domain",
        15,
    ),
    (
        "inactive-mailbox",
        "5.2.1 (mailbox disabled, not accepting messages)",
        'smtp;550 5.2.1 The email account that you tried to reach is inactive, "disabled" by owner',
        8,
    ),
    (
        "invalid-mailbox",
        "5.1.1 (bad destination mailbox address)",
        "smtp;554 5.1.1 <{rcpt}>: Recipient address rejected: undeliverable address: Mailbox might be "
        "disabled, full, or may not exist on the server. Reason: JFE030050",
        7,
    ),
    ("other", "5.0.0 (undefined status)", "smtp;552 1 Requested mail action aborted, mailbox not found", 6),
    (
        "spam-related",
        "5.7.1 (delivery not authorized)",
        "smtp;554 5.7.1 Rejected due to high probability of spam, see https://postmaster.example/spam",
        8,
    ),
    (
        "policy-related",
        "5.7.1 (delivery not authorized)",
        "smtp;550 5.7.1 Service unavailable, Client host [{ip}] blocked using Spamhaus; "
        "https://www.spamhaus.org/query/ip/{ip}",
        6,
    ),
    ("quota-issues", "5.2.2 (mailbox full)", "smtp;552 5.2.2 Mailbox full, quota exceeded", 5),
]
_TRANSIENTS = [
    (
        "policy-related",
        "4.7.0 (delivery not authorized)",
        "smtp;421 4.7.0 [TSS04] Messages from {ip} temporarily deferred due to unexpected volume or user "
        "complaints - 4.16.55.1; see https://postmaster.yahooinc.com/error-codes",
    ),
    ("no-answer-from-host", "4.4.1 (no answer from host)", "No answer from host, connection timed out"),
    ("quota-issues", "4.2.2 (mailbox full)", "smtp;452 4.2.2 The recipient's inbox is out of storage space"),
    (
        "spam-related",
        "4.7.28 (delivery not authorized)",
        "smtp;421 4.7.28 Gmail has detected an unusual rate of unsolicited mail, see "
        "https://support.google.com/mail/answer/188131 for more information.",
    ),
]


def _weighted(rng: random.Random, items: list, weights: list[int]):
    return rng.choices(items, weights=weights, k=1)[0]


def _row(rng: random.Random, when: datetime, tz: timezone, seq: int) -> list[str]:
    roll = rng.random()
    kind = "d" if roll < 0.85 else ("b" if roll < 0.95 else "t")
    domain, _w, mx, mx_ip, esmtp = _weighted(rng, _DOMAINS, [d[1] for d in _DOMAINS])
    # The record's serial number is part of its recipient, so no two generated records are the same
    # record (the fingerprint covers every field): a benchmark's counts are never bent by de-duplication.
    # With a random number alone, two records could come out the same (rarely: the t and b records'
    # diagnostics carry no serial), and each file of a run started the numbers over.
    rcpt = f"{rng.choice(_FIRST)}.{seq}@{domain}"
    ip = rng.choice(_SOURCE_IPS)
    vmta = f"vmta-{ip.rsplit('.', 1)[1]}"
    queued = when - timedelta(seconds=rng.randrange(0, 900 if kind == "t" else 30))
    job = f"mailwizz-{rng.choice(['ab12cd34ef', 'zz98yy76xx', 'qq11ww22ee', 'mm55nn66oo'])}"
    size = str(rng.randrange(3000, 60000))
    dsn_mta = f"{mx} ({mx_ip})"
    diag_tag = f"{rng.getrandbits(48):x}si{seq}"
    if kind == "d":
        action, status, cat = "relayed", "2.0.0 (success)", ""
        diag = f"smtp;250 2.0.0 OK {int(when.timestamp())} {diag_tag} - gsmtp"
    elif kind == "b":
        cat, status, diag, _w = _weighted(rng, _BOUNCES, [b[3] for b in _BOUNCES])
        action = "failed"
        diag = diag.format(tag=diag_tag, rcpt=rcpt, ip=ip)
    else:
        cat, status, diag = rng.choice(_TRANSIENTS)
        action = "delayed"
        diag = diag.format(ip=ip)
    no_route = kind == "b" and cat == "bad-domain"
    return [
        kind,
        when.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S%z"),
        queued.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S%z"),
        rng.choice(_SENDERS),
        rcpt,
        "",
        action,
        status,
        diag,
        "" if no_route else dsn_mta,
        cat,
        "smtp",
        "mta1.send.example.com (198.51.100.7)",
        "" if no_route else "smtp",
        ip,
        "" if no_route else mx_ip,
        "" if no_route else esmtp,
        "" if kind == "b" else size,
        vmta,
        job,
        "",
        f"{domain}/{vmta}",
        _POOLS[ip],
    ]


# Records are about 200 ms apart on average: a file of N records spans N / 5 seconds from here.
DEFAULT_START = datetime(2025, 7, 10, 0, 0, 0, tzinfo=UTC)
MEAN_GAP_SECONDS = 0.2


def write_rows(
    out: IO[str], n_records: int, *, seed: int = 1, start: datetime = DEFAULT_START, first_serial: int = 0
) -> None:
    """Write the header and ``n_records`` rows to a text stream, the first logged at ``start``; records
    are numbered from ``first_serial`` (files with disjoint ranges share no record)."""
    rng = random.Random(seed)
    tz = timezone(timedelta(hours=3))
    when = start
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(HEADER)
    for seq in range(first_serial, first_serial + n_records):
        # several records per second, like a busy MTA
        when += timedelta(milliseconds=rng.randrange(0, 400))
        writer.writerow(_row(rng, when.replace(microsecond=0), tz, seq))


def generate(
    path: str | Path,
    n_records: int,
    *,
    seed: int = 1,
    start: datetime = DEFAULT_START,
    first_serial: int = 0,
) -> Path:
    """Write a PMTA accounting file with ``n_records`` records (85% d, 10% b, 5% t), each one unique,
    numbered from ``first_serial``; ``.gz`` compresses."""
    path = Path(path)
    if path.suffix == ".gz":
        with gzip.open(path, "wt", encoding="utf-8", newline="", compresslevel=6) as out:
            write_rows(out, n_records, seed=seed, start=start, first_serial=first_serial)
    else:
        with path.open("w", encoding="utf-8", newline="") as out:
            write_rows(out, n_records, seed=seed, start=start, first_serial=first_serial)
    return path


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("path", help="output file; a .gz suffix writes gzip")
    parser.add_argument("n_records", type=int)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    generate(args.path, args.n_records, seed=args.seed)


if __name__ == "__main__":
    main()
