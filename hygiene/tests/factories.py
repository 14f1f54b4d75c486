"""Helpers for the validation tests: a job straight from CSV text, and a zone covering every verdict."""

from __future__ import annotations

import csv
import io

from hygiene.models import ValidationJob
from hygiene.services import (
    paste_parse,
    upload_parse,
    validation_job_create,
    validation_result_rows,
)


def make_job(tenant, text: str | None = None, *, lines: list[str] | None = None, by="test") -> ValidationJob:
    upload = paste_parse(text="\n".join(lines)) if lines is not None else upload_parse(data=text.encode())
    return validation_job_create(tenant=tenant, upload=upload, by=by)


def result_table(job: ValidationJob) -> list[list[str]]:
    return list(csv.reader(io.StringIO("".join(validation_result_rows(job)))))


def add_zone(server) -> None:
    """good.example (MX), a-only.example (no MX, an A), no-host.example (TXT only), null.example
    (null MX), slow.example (times out); anything else is NXDOMAIN. mailinator.com is disposable."""
    server.add("good.example", "MX", "10 mx.good.example.")
    server.add("a-only.example", "A", "192.0.2.20")
    server.add("no-host.example", "TXT", "v=spf1 -all")
    server.add("null.example", "MX", "0 .")
    server.add("mailinator.com", "MX", "10 mail.mailinator.com.")
    server.set_behaviour("slow.example", "timeout")
