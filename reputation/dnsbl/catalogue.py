"""The blocklists Email Engine ships with, as plain data (no Django).

Every list carries its own code map. A DNSBL answers with an address in 127.0.0.0/8, and the address
means something specific to that list. Some answers are not listings at all: Spamhaus answers
127.255.255.254 to queries that reach it through a public resolver, and URIBL and SURBL answer 127.0.0.1
when they refuse a query. Counting "any A record" as a listing (as naive checkers do) turns those refusals
into false alarms. So the rules are:

- ``codes``: answer -> meaning; the target is listed.
- ``error_codes``: answer -> meaning; the query failed, the target is neither listed nor clean.
- ``good_codes``: answer -> meaning; the list has an opinion and it is favourable (Mailspike reputation
  15-20): clean, with a note.
- ``bitmask``: bit -> meaning, for lists (SURBL, URIBL) whose last octet combines several sub-lists.
- ``error_ranges``: CIDR ranges whose every answer is an error, named or not (Spamhaus reserves all
  of 127.255.255.0/24 for errors, spamhaus.org/news/article/788): an unknown code there is an error.
- ``reputation``: the list grades every sender (Mailspike rep.mailspike.net, 127.0.0.10 worst ... .20 best);
  its answer is a reputation, shown as such, never a listing and never a reason to hold anything.
- ``scope``: what a listing describes: "ip" (this address), "subnet" (its /24 or allocation: UCEPROTECT
  level 2), "asn" (its whole network: UCEPROTECT level 3) or "domain". Only an "ip" listing can hold an IP.
- ``source_url``: the list's own page for its return codes: the citation for the maps here.

SORBS is absent on purpose: it shut down on 2024-06-05 and its zones must not be queried.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

__all__ = [
    "CATALOGUE",
    "SEVERITIES",
    "Blocklist",
    "blocklist_from_dict",
    "blocklist_to_dict",
    "by_key",
    "domain_lists",
    "ip_lists",
]

Kind = Literal["ip", "domain"]
Scope = Literal["ip", "subnet", "asn", "domain"]
SCOPES: tuple[str, ...] = ("ip", "subnet", "asn", "domain")
Severity = Literal["critical", "major", "minor"]
SEVERITIES: tuple[str, ...] = ("critical", "major", "minor")


@dataclass(frozen=True, eq=False)
class Blocklist:
    """One DNS blocklist. ``eq=False`` keeps it hashable by identity even though it holds dicts."""

    key: str
    name: str
    zone: str
    kind: Kind
    severity: Severity
    codes: dict[str, str] = field(default_factory=dict)
    error_codes: dict[str, str] = field(default_factory=dict)
    good_codes: dict[str, str] = field(default_factory=dict)
    bitmask: dict[int, str] = field(default_factory=dict)
    delist_url: str = ""
    supports_dqs: bool = False
    # The Spamhaus Data Query Service zone, to which the customer's key is prefixed: KEY.zen.dq.spamhaus.net.
    dqs_zone: str = ""
    notes: str = ""
    error_ranges: tuple[str, ...] = ()
    reputation: bool = False
    scope: Scope = "ip"
    source_url: str = ""

    def zone_for(self, dqs_key: str | None = None) -> str:
        """The zone to query: the DQS zone with the key when there is a key and the list supports it."""
        if dqs_key and self.supports_dqs and self.dqs_zone:
            return f"{dqs_key}.{self.dqs_zone}"
        return self.zone


# Spamhaus answers these for any of its zones when it will not answer the question itself. The whole
# 127.255.255.0/24 is reserved for errors (spamhaus.org/news/article/788): .254 and .255 there, .252 in the
# DNSBL usage FAQ; the DQS zone table (docs.spamhaus.com .../datasets/040-zones.html) lists two more codes
# in this range for invalid DQS keys. Any other answer in the range is an error too (SPAMHAUS_RANGE_ERROR).
# Confirmed from Spamhaus's own pages (2026-12-03): https://www.spamhaus.org/news/article/788/ (the whole
# 127.255.255.0/24 is for query errors, "should NOT be interpreted as any sort of reputation"; .254
# public/open resolver, .255 excessive queries) and _SPAMHAUS_SOURCE below ("the last two return codes are
# associated with invalid DQS keys and apply to any query made using such keys"). The exact two DQS-key codes
# were not legible in the copy we could read, so they are not named here: the range rule makes them errors
# anyway, which loses nothing (the error is shown) and never pauses an IP on a key problem.
_SPAMHAUS_ERRORS = {
    "127.255.255.252": "Spamhaus says the zone name is mistyped: check the list configuration",
    "127.255.255.254": (
        "Spamhaus refuses queries from public/open resolvers: use your own resolver or a DQS key"
    ),
    "127.255.255.255": "Spamhaus says this resolver is over its query limit: use a DQS key",
}
SPAMHAUS_ERROR_RANGE = "127.255.255.0/24"
SPAMHAUS_RANGE_ERROR = (
    "Spamhaus error code {code} (127.255.255.0/24 is reserved for query errors, never a listing); "
    "with a DQS key this range also answers an invalid or disabled key: check the key"
)
_SPAMHAUS_SOURCE = (
    "https://docs.spamhaus.com/datasets/docs/source/10-data-type-documentation/datasets/040-zones.html"
)

# Mailspike's reputation zone grades every IP it has seen, from 10 (worst) to 20 (best).
_MAILSPIKE_REP_BAD = {
    "127.0.0.10": "Mailspike reputation: worst possible",
    "127.0.0.11": "Mailspike reputation: very bad",
    "127.0.0.12": "Mailspike reputation: bad",
    "127.0.0.13": "Mailspike reputation: suspicious",
    "127.0.0.14": "Mailspike reputation: neutral, leaning to spam",
}
_MAILSPIKE_REP_GOOD = {
    "127.0.0.15": "Mailspike reputation: neutral, leaning to legitimate",
    "127.0.0.16": "Mailspike reputation: possibly legitimate",
    "127.0.0.17": "Mailspike reputation: good",
    "127.0.0.18": "Mailspike reputation: very good",
    "127.0.0.19": "Mailspike reputation: excellent",
    "127.0.0.20": "Mailspike reputation: best possible",
}


# UCEPROTECT's levels: NOT confirmed from UCEPROTECT's own pages (2026-12-03: https://www.uceprotect.net/
# was not readable from here; the source_url below is where its policy lives). What we rely on is UCEPROTECT's
# policy text as quoted by third parties (whatismyipaddress.com, "What this DNSbl says about itself": "Level 2
# escalates within the allocation" once Level 1 listings in it pass a count within 7 days; Level 3 lists
# whole ASNs). So the choice that loses nothing and sends less: L2/L3 are shown with their scope (a
# neighbourhood, not this IP) and never hold an IP; L1 (this IP) is "major", shown, not an automatic pause.
def _uceprotect(level: int, severity: Severity, what: str, scope: Scope) -> Blocklist:
    return Blocklist(
        key=f"uceprotect-l{level}",
        name=f"UCEPROTECT Level {level}",
        zone=f"dnsbl-{level}.uceprotect.net",
        kind="ip",
        severity=severity,
        codes={"127.0.0.2": f"listed on UCEPROTECT Level {level} ({what})"},
        delist_url="https://www.uceprotect.net/en/rblcheck.php",
        notes=what,
        scope=scope,
        source_url="https://www.uceprotect.net/en/index.php?m=3&s=0",
    )


CATALOGUE: list[Blocklist] = [
    Blocklist(
        key="spamhaus-zen",
        name="Spamhaus ZEN",
        zone="zen.spamhaus.org",
        kind="ip",
        severity="critical",
        codes={
            "127.0.0.2": "SBL: Spamhaus Block List, a known spam source or spam operation",
            "127.0.0.3": "SBL CSS: low-reputation sender (snowshoe or compromised sending)",
            "127.0.0.4": "XBL: exploited or infected host (CBL data)",
            "127.0.0.5": "XBL: exploited or infected host",
            "127.0.0.6": "XBL: exploited or infected host",
            "127.0.0.7": "XBL: exploited or infected host",
            "127.0.0.9": "DROP: hijacked or criminal netblock (Do not Route Or Peer)",
            "127.0.0.10": "PBL: end-user range per its ISP, should not send directly to MX",
            "127.0.0.11": "PBL: end-user range per Spamhaus, should not send directly to MX",
            "127.0.0.30": "BCL: botnet controller",
        },
        error_codes=dict(_SPAMHAUS_ERRORS),
        error_ranges=(SPAMHAUS_ERROR_RANGE,),
        delist_url="https://check.spamhaus.org/",
        supports_dqs=True,
        dqs_zone="zen.dq.spamhaus.net",
        notes="Free only for low-volume non-commercial use; otherwise use DQS.",
        source_url=_SPAMHAUS_SOURCE,
    ),
    Blocklist(
        key="spamhaus-dbl",
        name="Spamhaus DBL",
        zone="dbl.spamhaus.org",
        kind="domain",
        severity="critical",
        codes={
            "127.0.1.2": "DBL: spam domain",
            "127.0.1.4": "DBL: phishing domain",
            "127.0.1.5": "DBL: malware domain",
            "127.0.1.6": "DBL: botnet command-and-control domain",
            "127.0.1.102": "DBL: abused legitimate domain (spam)",
            "127.0.1.103": "DBL: abused legitimate redirector or URL shortener",
            "127.0.1.104": "DBL: abused legitimate domain (phishing)",
            "127.0.1.105": "DBL: abused legitimate domain (malware)",
            "127.0.1.106": "DBL: abused legitimate domain (botnet C&C)",
        },
        error_codes={
            "127.0.1.255": "Spamhaus DBL does not answer IP address queries: query a domain",
            **_SPAMHAUS_ERRORS,
        },
        error_ranges=(SPAMHAUS_ERROR_RANGE,),
        delist_url="https://check.spamhaus.org/",
        supports_dqs=True,
        dqs_zone="dbl.dq.spamhaus.net",
        scope="domain",
        source_url=_SPAMHAUS_SOURCE,
    ),
    Blocklist(
        key="barracuda",
        name="Barracuda Reputation Block List",
        zone="b.barracudacentral.org",
        kind="ip",
        severity="critical",
        codes={"127.0.0.2": "listed on the Barracuda Reputation Block List"},
        delist_url="https://www.barracudacentral.org/rbl/removal-request",
        notes="Free, but the querying DNS server must be registered with Barracuda.",
        source_url="https://www.barracudacentral.org/rbl/how-to-use",
    ),
    Blocklist(
        key="spamcop",
        name="SpamCop",
        zone="bl.spamcop.net",
        kind="ip",
        severity="critical",
        codes={"127.0.0.2": "listed on SpamCop (spam reports)"},
        delist_url="https://www.spamcop.net/bl.shtml",
        notes="Listings expire on their own once reports stop.",
        source_url="https://www.spamcop.net/fom-serve/cache/291.html",
    ),
    _uceprotect(1, "major", "this IP sent spam; expires 7 days after the last", "ip"),
    _uceprotect(2, "minor", "the surrounding allocation (/24 or more) has too many listed IPs", "subnet"),
    _uceprotect(3, "minor", "the whole ASN has too many listed IPs", "asn"),
    Blocklist(
        key="psbl",
        name="Passive Spam Block List",
        zone="psbl.surriel.com",
        kind="ip",
        severity="major",
        codes={"127.0.0.2": "listed on PSBL (spam trap hits)"},
        delist_url="https://psbl.org/",
        source_url="https://psbl.org/about",
    ),
    Blocklist(
        key="mailspike-bl",
        name="Mailspike Blacklist",
        zone="bl.mailspike.net",
        kind="ip",
        severity="major",
        codes={"127.0.0.2": "listed on the Mailspike blacklist"},
        delist_url="https://mailspike.org/",
        notes="Free under 100k queries a day.",
        source_url="https://mailspike.org/usage.html",
    ),
    Blocklist(
        key="mailspike-rep",
        name="Mailspike Reputation",
        zone="rep.mailspike.net",
        kind="ip",
        severity="minor",
        good_codes={**_MAILSPIKE_REP_BAD, **_MAILSPIKE_REP_GOOD},
        delist_url="https://mailspike.org/",
        notes="A reputation scale (127.0.0.10 worst ... .20 best), not a listing; the block zone is "
        "bl.mailspike.net.",
        reputation=True,
        source_url="https://mailspike.org/usage.html",
    ),
    Blocklist(
        key="surbl",
        name="SURBL multi",
        zone="multi.surbl.org",
        kind="domain",
        severity="major",
        bitmask={
            8: "SURBL: phishing",
            16: "SURBL: malware",
            64: "SURBL: abuse (spam)",
            128: "SURBL: cracked (compromised) site",
        },
        error_codes={"127.0.0.1": "SURBL refused the query (public resolver or over its limit)"},
        delist_url="https://www.surbl.org/surbl-analysis",
        notes="For domains found in message bodies (URIs), not for sending IPs.",
        scope="domain",
        source_url="https://www.surbl.org/lists",
    ),
    Blocklist(
        key="uribl",
        name="URIBL multi",
        zone="multi.uribl.com",
        kind="domain",
        severity="major",
        bitmask={
            2: "URIBL black: spam domain",
            4: "URIBL grey: grey-area bulk sender domain",
            8: "URIBL red: newly seen in spam, under review",
        },
        error_codes={"127.0.0.1": "URIBL refused the query (public resolver or over its limit)"},
        delist_url="https://admin.uribl.com/",
        notes="For domains found in message bodies (URIs), not for sending IPs.",
        scope="domain",
        source_url="https://uribl.com/refused.shtml",
    ),
]

_BY_KEY = {entry.key: entry for entry in CATALOGUE}


def by_key(key: str) -> Blocklist:
    """The catalogue entry with that key (KeyError if unknown)."""
    return _BY_KEY[key]


def ip_lists() -> list[Blocklist]:
    return [entry for entry in CATALOGUE if entry.kind == "ip"]


def domain_lists() -> list[Blocklist]:
    return [entry for entry in CATALOGUE if entry.kind == "domain"]


def blocklist_from_dict(data: dict) -> Blocklist:
    """Build a Blocklist from a dict (a database row or JSON); bitmask keys may be strings there."""
    values = dict(data)
    values["bitmask"] = {int(bit): meaning for bit, meaning in (values.get("bitmask") or {}).items()}
    values["error_ranges"] = tuple(values.get("error_ranges") or ())
    known = set(Blocklist.__dataclass_fields__)
    return Blocklist(**{name: value for name, value in values.items() if name in known})


def blocklist_to_dict(entry: Blocklist) -> dict:
    """The entry as plain JSON-able data (seeding a database table, fixtures)."""
    return {
        "key": entry.key,
        "name": entry.name,
        "zone": entry.zone,
        "kind": entry.kind,
        "severity": entry.severity,
        "codes": dict(entry.codes),
        "error_codes": dict(entry.error_codes),
        "good_codes": dict(entry.good_codes),
        "bitmask": {str(bit): meaning for bit, meaning in entry.bitmask.items()},
        "delist_url": entry.delist_url,
        "supports_dqs": entry.supports_dqs,
        "dqs_zone": entry.dqs_zone,
        "notes": entry.notes,
        "error_ranges": list(entry.error_ranges),
        "reputation": entry.reputation,
        "scope": entry.scope,
        "source_url": entry.source_url,
    }
