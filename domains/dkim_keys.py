"""DKIM key material: generation, the public half, and how it is written into DNS.

Pure functions with no Django imports, so models, services, commands and the DNS checks can all use them.
The private key is returned as unencrypted PKCS#8 PEM; encrypting it at rest is the model field's job.
"""

from __future__ import annotations

import base64

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

# 1024 is still accepted because some DNS hosting panels cannot store longer TXT values;
# 4096 is allowed but many verifiers only handle up to 2048 (RFC 8301 requires 1024-4096 support).
ALLOWED_KEY_SIZES = (1024, 2048, 4096)

# A single character-string inside a TXT record holds at most 255 bytes (RFC 1035 3.3).
TXT_CHUNK_BYTES = 255

DEFAULT_TTL = 3600


def generate_keypair(bits: int = 2048) -> tuple[str, str]:
    """Return (private key PEM in PKCS#8, public key as base64 SubjectPublicKeyInfo DER for p=)."""
    if bits not in ALLOWED_KEY_SIZES:
        allowed = ", ".join(str(size) for size in ALLOWED_KEY_SIZES)
        raise ValueError(f"DKIM key size must be one of {allowed}, not {bits}")
    key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    private_pem = key.private_bytes(
        encoding=serialization.Encoding.PEM,
        format=serialization.PrivateFormat.PKCS8,
        encryption_algorithm=serialization.NoEncryption(),
    ).decode("ascii")
    return private_pem, _public_b64(key.public_key())


def public_key_from_private(pem: str) -> str:
    """Derive the p= value (base64 SubjectPublicKeyInfo DER) from a private key PEM."""
    key = serialization.load_pem_private_key(pem.encode("ascii"), password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        # We only publish k=rsa records; an ed25519 key would need a different record.
        raise ValueError("DKIM private key is not an RSA key")
    return _public_b64(key.public_key())


def dkim_txt_value(public_b64: str) -> str:
    """The TXT value for a DKIM selector record."""
    return f"v=DKIM1; k=rsa; p={public_b64}"


def split_txt(value: str) -> list[str]:
    """Split a TXT value into character-strings of at most 255 bytes each.

    Splits on UTF-8 byte boundaries without cutting a multi-byte character in half; DKIM, SPF
    and DMARC values are ASCII in practice, where this is simply every 255 characters.
    """
    chunks: list[str] = []
    current: list[str] = []
    size = 0
    for char in value:
        width = len(char.encode("utf-8"))
        if size + width > TXT_CHUNK_BYTES:
            chunks.append("".join(current))
            current, size = [], 0
        current.append(char)
        size += width
    if current or not chunks:
        chunks.append("".join(current))
    return chunks


def quote_txt(chunks: list[str]) -> str:
    """Render character-strings as zone-file quoted strings separated by spaces."""
    return " ".join(_quote(chunk) for chunk in chunks)


def bind_record(selector: str, domain: str, public_b64: str, ttl: int = DEFAULT_TTL) -> str:
    """A one-line zone-file record for the selector, with the value in parenthesised quoted strings.

    The parentheses let the operator break the line anywhere when pasting into a zone file; the
    resolver concatenates the strings back into one value.
    """
    name = f"{selector}._domainkey.{domain.rstrip('.')}."
    strings = quote_txt(split_txt(dkim_txt_value(public_b64)))
    return f"{name} {ttl} IN TXT ( {strings} )"


def _public_b64(public_key: rsa.RSAPublicKey) -> str:
    der = public_key.public_bytes(
        encoding=serialization.Encoding.DER,
        format=serialization.PublicFormat.SubjectPublicKeyInfo,
    )
    return base64.b64encode(der).decode("ascii")


def _quote(chunk: str) -> str:
    # Backslash and double quote are the only characters that must be escaped inside a quoted string.
    escaped = chunk.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'
