"""Reading uploads: the email column, header lines, delimiters, encodings, and clear refusals."""

import codecs

import pytest

from hygiene.services import UploadError, paste_parse, upload_parse


def test_it_finds_a_named_email_column():
    parsed = upload_parse(data=b"First name,E-Mail,Phone\nAna,ana@example.com,1\nBob,bob@example.org,2\n")
    assert (parsed.has_header, parsed.email_index, parsed.email_column, parsed.total) == (
        True,
        1,
        "E-Mail",
        2,
    )


@pytest.mark.parametrize("name", ["email", "Email", "e-mail", "mail", "address", "Email Address"])
def test_it_knows_the_usual_header_names(name):
    parsed = upload_parse(data=f"id,{name}\n1,ana@example.com\n".encode())
    assert parsed.email_index == 1


def test_it_finds_the_address_column_without_a_header():
    parsed = upload_parse(data=b"Ana,ana@example.com\nBob,bob@example.org\nCy,not-an-address\n")
    assert (parsed.has_header, parsed.email_index, parsed.email_column, parsed.total) == (
        False,
        1,
        "column 2",
        3,
    )


def test_it_finds_the_address_column_under_an_unnamed_header():
    parsed = upload_parse(data=b"who,contact\nAna,ana@example.com\nBob,bob@example.org\n")
    assert (parsed.has_header, parsed.email_index, parsed.email_column) == (True, 1, "contact")


@pytest.mark.parametrize(
    ("data", "delimiter"),
    [(b"name;email\nA;a@example.com\n", ";"), (b"name\temail\nA\ta@example.com\n", "\t")],
)
def test_it_reads_semicolon_and_tab_separated_files(data, delimiter):
    parsed = upload_parse(data=data)
    assert (parsed.delimiter, parsed.email_index) == (delimiter, 1)


def test_it_accepts_utf8_with_a_byte_order_mark():
    parsed = upload_parse(data=codecs.BOM_UTF8 + "email,name\nana@example.com,José\n".encode())
    assert parsed.header == ["email", "name"]
    assert parsed.email_column == "email"


def test_it_skips_blank_lines_and_counts_rows():
    parsed = upload_parse(data=b"email\n\nana@example.com\n\n,\nbob@example.com\n")
    assert parsed.total == 2


def test_pasted_addresses_are_one_per_line():
    parsed = paste_parse(text="ana@example.com\n\n  bob@example.org  \r\nweird,comma@example.com\n")
    assert parsed.total == 3
    assert parsed.text == 'email\nana@example.com\nbob@example.org\n"weird,comma@example.com"\n'


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty"),
        (b"   \n\n", "empty"),
        (b"email\n", "no addresses"),
        (b"name,phone\nAna,123\nBob,456\n", "No email column"),
        (b"PK\x03\x04\x14\x00\x06\x00binary", "Excel workbook"),
        (b"%PDF-1.7\n", "PDF"),
        (b"email\nana@example.com\x00\x01\x02\n", "binary data"),
        ("email\nana@example.com\n".encode("utf-16"), "UTF-16"),
        ("email,name\nana@example.com,José\n".encode("latin-1"), r"not UTF-8 text \(byte 0xe9 on line 2"),
    ],
)
def test_it_refuses_bad_uploads_with_a_clear_reason(data, message):
    with pytest.raises(UploadError, match=message):
        upload_parse(data=data)


def test_it_refuses_files_over_the_size_limit(settings):
    settings.VALIDATION_MAX_UPLOAD_BYTES = 1024
    with pytest.raises(UploadError, match="larger than"):
        upload_parse(data=b"email\n" + b"ana@example.com\n" * 100)
    with pytest.raises(UploadError, match="larger than"):
        paste_parse(text="ana@example.com\n" * 100)


def test_pasting_nothing_is_refused():
    with pytest.raises(UploadError, match="at least one"):
        paste_parse(text=" \n \n")
