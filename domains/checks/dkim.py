"""DKIM check (RFC 6376 3.6): the selector's TXT record publishes the key we sign with.

Key types: k=rsa (the default, RFC 6376 3.6.1) and k=ed25519 (RFC 8463 section 4: p= is the base64 of the
bare 32-byte Ed25519 public key, not a SubjectPublicKeyInfo).
"""

from __future__ import annotations

import base64
import binascii
import re
import textwrap
from typing import Final

import dns.resolver
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from domains.checks.result import (
    INVALID,
    MISSING,
    OK,
    WARNING,
    CheckResult,
    dns_guarded,
    query,
    txt_values,
)
from domains.dkim_keys import bind_record

CHECK: Final = "dkim"
KEY_TYPES: Final = ("rsa", "ed25519")
ED25519_KEY_BYTES: Final = 32
_TAG_NAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")


class TagSyntaxError(ValueError):
    pass


def parse_tags(value: str) -> dict[str, str]:
    """Parse a "tag=value; tag=value" list (RFC 6376 3.2), keeping the tags' order.

    Tag names are case-sensitive; duplicate tags make the record invalid, and whitespace around names and
    values is not significant.
    """
    tags: dict[str, str] = {}
    for part in value.split(";"):
        if not part.strip():
            continue  # a trailing ";" is allowed
        name, sep, tag_value = part.partition("=")
        name = name.strip()
        if not sep or not _TAG_NAME_RE.match(name):
            raise TagSyntaxError(f"bad tag {part.strip()!r}")
        if name in tags:
            raise TagSyntaxError(f"tag {name!r} appears twice")
        tags[name] = tag_value.strip()
    return tags


def dkim_name(selector: str, domain: str) -> str:
    return f"{selector}._domainkey.{domain.rstrip('.')}"


@dns_guarded(CHECK)
def check_dkim(
    domain: str, selector: str, *, resolver: dns.resolver.Resolver, public_key_b64: str
) -> CheckResult:
    """Check that ``SELECTOR._domainkey.DOMAIN`` publishes ``public_key_b64`` (the p= value)."""
    name = dkim_name(selector, domain)
    expected = bind_record(selector, domain, _compact(public_key_b64))
    values = txt_values(query(resolver, name, "TXT"))
    details: dict[str, object] = {"name": name, "selector": selector}
    if not values:
        return CheckResult(CHECK, MISSING, f"no DKIM key published at {name}", expected, details)
    candidates = [value for value in values if _looks_like_dkim(value)]
    if not candidates:
        return CheckResult(CHECK, INVALID, f"the TXT record at {name} is not a DKIM key", expected, details)
    if len(candidates) > 1:
        explanation = f"{len(candidates)} DKIM records at {name}; verifiers may pick either - keep one"
        return CheckResult(CHECK, INVALID, explanation, expected, details)
    return _judge_record(candidates[0], public_key_b64, expected, details)


@dns_guarded(CHECK)
def check_dkim_published(domain: str, selector: str, *, resolver: dns.resolver.Resolver) -> CheckResult:
    """Without our key to compare (a domain outside the inventory): is one parseable RSA key published?"""
    name = dkim_name(selector, domain)
    values = txt_values(query(resolver, name, "TXT"))
    details: dict[str, object] = {"name": name, "selector": selector}
    candidates = [value for value in values if _looks_like_dkim(value)]
    if not values:
        return CheckResult(CHECK, MISSING, f"no DKIM key published at {name}", "", details)
    if len(candidates) != 1:
        problem = "is not a DKIM key" if not candidates else f"holds {len(candidates)} DKIM records; keep one"
        return CheckResult(CHECK, INVALID, f"the TXT record at {name} {problem}", "", details)
    try:
        tags = parse_tags(candidates[0])
    except TagSyntaxError as exc:
        return CheckResult(CHECK, INVALID, f"DKIM record does not parse: {exc}", "", details)
    details["tags"] = {tag: value for tag, value in tags.items() if tag != "p"}
    problem = _tag_problem(tags) or ("the key is revoked (empty p=)" if not _compact(tags["p"]) else "")
    if problem:
        return CheckResult(CHECK, INVALID, problem, "", details)
    if tags.get("k") == "ed25519":
        if not _is_ed25519_key(_compact(tags["p"])):
            explanation = "k=ed25519 but p= is not a 32-byte Ed25519 public key (RFC 8463 4)"
            return CheckResult(CHECK, INVALID, explanation, "", details)
        details["key_type"] = "ed25519"
        if "y" in tags.get("t", "").split(":"):
            explanation = "Ed25519 key published (RFC 8463), but t=y marks it as testing mode"
            return CheckResult(CHECK, WARNING, explanation, "", details)
        return CheckResult(CHECK, OK, "Ed25519 key published and parseable (RFC 8463)", "", details)
    key = _load_public_key(_compact(tags["p"]))
    if key is None:
        return CheckResult(CHECK, INVALID, "p= is not a readable RSA public key", "", details)
    details["key_bits"] = key.key_size
    if "y" in tags.get("t", "").split(":"):
        explanation = f"RSA {key.key_size}-bit key published, but t=y marks it as testing mode"
        return CheckResult(CHECK, WARNING, explanation, "", details)
    return CheckResult(CHECK, OK, f"RSA {key.key_size}-bit key published and parseable", "", details)


def _judge_record(value: str, public_key_b64: str, expected: str, details: dict[str, object]) -> CheckResult:
    try:
        tags = parse_tags(value)
    except TagSyntaxError as exc:
        return CheckResult(CHECK, INVALID, f"DKIM record does not parse: {exc}", expected, details)
    details["tags"] = {name: tag for name, tag in tags.items() if name != "p"}
    problem = _tag_problem(tags)
    if problem:
        return CheckResult(CHECK, INVALID, problem, expected, details)
    if tags.get("k") == "ed25519":
        # A valid key type (RFC 8463), but Email Engine's keys for this selector are RSA: not ours.
        explanation = (
            "an Ed25519 key (k=ed25519, RFC 8463) is published at this selector, but the signing key "
            "for it is RSA: publish the RSA key here, or give the Ed25519 key its own selector"
        )
        return CheckResult(CHECK, INVALID, explanation, expected, details)
    published = _compact(tags["p"])
    if not published:
        return CheckResult(
            CHECK, INVALID, "the key is revoked (empty p=); publish the current key", expected, details
        )
    published_key = _load_public_key(published)
    if published_key is not None:
        details["key_bits"] = published_key.key_size
    if not _same_key(published, published_key, public_key_b64):
        return CheckResult(CHECK, INVALID, "published key does not match the signing key", expected, details)
    if "y" in tags.get("t", "").split(":"):
        # t=y asks verifiers to treat failures as unsigned mail: fine while testing, not for production.
        explanation = "key matches, but t=y marks it as testing mode; remove t=y"
        return CheckResult(CHECK, WARNING, explanation, expected, details)
    return CheckResult(CHECK, OK, "published key matches the signing key", expected, details)


def _looks_like_dkim(value: str) -> bool:
    # Other TXT records can live at the same name (verification tokens); a key has v=DKIM1 or p=.
    stripped = value.strip()
    return stripped.startswith("v=DKIM1") or bool(re.search(r"(^|;)\s*p\s*=", stripped))


def _tag_problem(tags: dict[str, str]) -> str:
    if "v" in tags and (next(iter(tags)) != "v" or tags["v"] != "DKIM1"):
        # RFC 6376 3.6.1: if present, v= must be first and must be DKIM1.
        return "v= must be the first tag and must be DKIM1"
    if tags.get("k", "rsa") not in KEY_TYPES:
        return f"k={tags['k']} is not a DKIM key type (rsa, RFC 6376 3.6.1; ed25519, RFC 8463)"
    if "p" not in tags:
        return "the record has no p= (public key) tag"
    return ""


def _compact(b64: str) -> str:
    # Base64 in DNS may contain spaces where the publisher broke the value into strings.
    return "".join(b64.split())


def _is_ed25519_key(b64: str) -> bool:
    try:
        raw = base64.b64decode(b64, validate=True)
    except (binascii.Error, ValueError):
        return False
    if len(raw) != ED25519_KEY_BYTES:
        return False
    try:
        ed25519.Ed25519PublicKey.from_public_bytes(raw)
    except ValueError:
        return False
    return True


def _load_public_key(b64: str) -> rsa.RSAPublicKey | None:
    """Load p= as SubjectPublicKeyInfo (what everybody publishes) or bare PKCS#1 RSAPublicKey."""
    try:
        der = base64.b64decode(b64, validate=True)
    except (binascii.Error, ValueError):
        return None
    try:
        key = serialization.load_der_public_key(der)
    except ValueError:
        pem = "-----BEGIN RSA PUBLIC KEY-----\n" + "\n".join(textwrap.wrap(b64, 64))
        pem += "\n-----END RSA PUBLIC KEY-----\n"
        try:
            key = serialization.load_pem_public_key(pem.encode("ascii"))
        except ValueError:
            return None
    return key if isinstance(key, rsa.RSAPublicKey) else None


def _same_key(published: str, published_key: rsa.RSAPublicKey | None, expected_b64: str) -> bool:
    if published == _compact(expected_b64):
        return True
    # The same key can be encoded two ways (SPKI or PKCS#1): compare the numbers, not the text.
    expected_key = _load_public_key(_compact(expected_b64))
    if published_key is None or expected_key is None:
        return False
    return published_key.public_numbers() == expected_key.public_numbers()
