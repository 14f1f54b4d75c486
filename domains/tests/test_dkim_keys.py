"""DKIM key generation and how the public key is written into DNS."""

from __future__ import annotations

import base64

import dns.zone
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from domains.dkim_keys import (
    bind_record,
    dkim_txt_value,
    generate_keypair,
    public_key_from_private,
    split_txt,
)


@pytest.fixture(scope="module")
def keypair() -> tuple[str, str]:
    return generate_keypair(2048)


def test_it_generates_a_pkcs8_private_key_and_an_spki_public_key(keypair):
    private_pem, public_b64 = keypair

    assert private_pem.startswith("-----BEGIN PRIVATE KEY-----")  # PKCS#8, not "BEGIN RSA PRIVATE KEY"
    public_key = serialization.load_der_public_key(base64.b64decode(public_b64))
    assert isinstance(public_key, rsa.RSAPublicKey)
    assert public_key.key_size == 2048


def test_it_derives_the_public_key_from_the_private_key(keypair):
    private_pem, public_b64 = keypair

    assert public_key_from_private(private_pem) == public_b64


def test_it_generates_1024_bit_keys():
    _, public_b64 = generate_keypair(1024)

    assert serialization.load_der_public_key(base64.b64decode(public_b64)).key_size == 1024


@pytest.mark.parametrize("bits", [512, 1536, 3072, 8192, 0])
def test_it_refuses_other_key_sizes(bits):
    with pytest.raises(ValueError, match="key size"):
        generate_keypair(bits)


def test_it_refuses_a_non_rsa_private_key():
    pem = ed25519.Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )

    with pytest.raises(ValueError, match="not an RSA key"):
        public_key_from_private(pem.decode())


def test_it_builds_the_txt_value():
    assert dkim_txt_value("MIIBabc") == "v=DKIM1; k=rsa; p=MIIBabc"


def test_it_splits_txt_values_into_255_byte_strings():
    value = "x" * 600

    chunks = split_txt(value)

    assert [len(chunk) for chunk in chunks] == [255, 255, 90]
    assert "".join(chunks) == value
    assert split_txt("") == [""]
    assert split_txt("short") == ["short"]


def test_it_never_cuts_a_multibyte_character_in_half():
    value = "a" + "é" * 200  # 401 bytes in UTF-8

    chunks = split_txt(value)

    assert all(len(chunk.encode()) <= 255 for chunk in chunks)
    assert "".join(chunks) == value


def test_it_writes_a_zone_file_line_that_a_zone_parser_reads_back(keypair):
    _, public_b64 = keypair

    line = bind_record("ee1", "example.com", public_b64, ttl=600)

    assert line.startswith("ee1._domainkey.example.com. 600 IN TXT ( ")
    assert line.endswith(" )")
    assert "\n" not in line
    zone = dns.zone.from_text(line + "\n", origin="example.com.", check_origin=False)
    rdataset = zone.find_rdataset("ee1._domainkey", "TXT")
    assert rdataset.ttl == 600
    strings = next(iter(rdataset)).strings
    assert len(strings) == 2
    assert all(len(chunk) <= 255 for chunk in strings)
    assert b"".join(strings).decode() == dkim_txt_value(public_b64)
