"""Provider data sources (Google Postmaster Tools v2, Microsoft SNDS): imports and connection tests."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ConnectionResult:
    """What a "test connection" found, in words safe to show the person who typed the credentials."""

    ok: bool
    message: str
