"""The starter set of reply rules: each pattern matches a provider's own published reply text.

Installed once by a data migration (and by seed_demo); an operator may edit or disable them afterwards.
Thresholds follow the practice PMTA-NOTES section 10 describes (KumoMTA's community shaping rules act per
IP x provider after N matching replies within an hour and slow down before they suspend).

Citation status of each ``source`` (checked 2026-12-03 against the providers' own pages):
- Yahoo [TS03]: CONFIRMED on Yahoo's own help page, help.yahoo.com/kb/... SLN3436 ("421 4.7.1 [TS03] All
  messages from x.x.x.x permanently deferred"; do not resend until lists and practices are fixed).
- Yahoo [TSS04]: NOT confirmed on a Yahoo page we could read (senders.yahooinc.com/smtp-error-codes was not
  readable). Yahoo's own replies, as logged by many MTAs, carry the code and point to Yahoo's page
  (help.yahoo.com/kb/postmaster/SLN3434.html, later postmaster.yahooinc.com/error-codes); the wording varies
  ("due to user complaints" / "unexpected volume or user complaints"), so the pattern is the code alone.
- Gmail 421 4.7.28 and 421 4.7.0 "low reputation of the sending IP": NOT confirmed on support.google.com
  (not readable from here); the text is Gmail's own reply as logged by MTAs, which points to
  support.google.com/mail/?p=UnsolicitedRateLimitError.
- Microsoft 451 4.7.650/651 and 550 5.7.1 (S3150): NOT confirmed on a Microsoft page; Microsoft's error
  reference is reported not to list S3150. The patterns are the codes in Outlook.com's own replies.
For the unconfirmed ones the behaviour is the one that loses nothing and sends less: the pattern is the
narrowest code the reply carries, counted only on replies from that provider's domains; the first step slows
that IP to that provider (nothing is bounced: reply actions keep the mail queued, ips.pmta_directives.REPLY),
and a hold follows only if the replies continue while slowed.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ReplyPreset:
    key: str
    name: str
    provider: str
    pattern: str
    threshold: int
    source: str
    window_minutes: int = 60
    duration_hours: int = 2
    slow_factor: float = 0.5
    backoff_max_per_hour: int | None = 100
    backoff_to_normal_minutes: int = 30


REPLY_PRESETS: tuple[ReplyPreset, ...] = (
    ReplyPreset(
        key="gmail-unusual-rate",
        name="Gmail: unusual rate of unsolicited mail (421 4.7.28)",
        provider="gmail",
        pattern=r"4\.7\.28",
        threshold=10,
        source=(
            'support.google.com/a/answer/3726730 (Gmail SMTP errors): 421 4.7.28 "Our system has detected an '
            'unusual rate of unsolicited mail originating from your IP address ... temporarily rate limited"'
        ),
    ),
    ReplyPreset(
        key="gmail-low-ip-reputation",
        name="Gmail: very low reputation of the sending IP (421 4.7.0)",
        provider="gmail",
        pattern=r"4\.7\.0.*low reputation of the sending IP",
        threshold=10,
        source=(
            "support.google.com/a/answer/3726730 (Gmail SMTP errors): 421 4.7.0 "
            '"Our system has detected that this message is suspicious due to the very low reputation of the '
            'sending IP address"'
        ),
    ),
    ReplyPreset(
        key="yahoo-tss04",
        name="Yahoo/AOL: deferred for unexpected volume or complaints ([TSS04])",
        provider="yahoo",
        pattern=r"\[TSS04\]",
        threshold=10,
        source=(
            "senders.yahooinc.com/smtp-error-codes (Yahoo Sender Hub): 421 4.7.0 [TSS04] "
            '"Messages from x.x.x.x temporarily deferred due to unexpected volume or user complaints"'
        ),
    ),
    ReplyPreset(
        key="yahoo-ts03",
        name="Yahoo/AOL: all messages permanently deferred ([TS03])",
        provider="yahoo",
        pattern=r"\[TS03\]",
        threshold=3,
        duration_hours=4,
        backoff_max_per_hour=20,
        source=(
            'help.yahoo.com SLN3436: 421 4.7.1 [TS03] "All messages from x.x.x.x permanently deferred"; '
            "Yahoo advises not to resend until the lists and practices are fixed"
        ),
    ),
    ReplyPreset(
        key="microsoft-ip-reputation",
        name="Microsoft: rate limited due to IP reputation (451 4.7.650/651)",
        provider="microsoft",
        pattern=r"4\.7\.65[01]",
        threshold=10,
        source=(
            "Outlook.com's own reply, which points to its postmaster site (aka.ms/postmaster, "
            'sendersupport.olc.protection.outlook.com/pm): 451 4.7.650 "The mail server [x.x.x.x] has been '
            'temporarily rate limited due to IP reputation" (S775; 4.7.651 with S3114)'
        ),
    ),
    ReplyPreset(
        key="microsoft-block-list",
        name="Microsoft: part of the network is on the block list (S3150)",
        provider="microsoft",
        pattern=r"\(S3150\)",
        threshold=3,
        duration_hours=4,
        backoff_max_per_hour=20,
        source=(
            "sendersupport.olc.protection.outlook.com/pm (Outlook.com postmaster troubleshooting): 550 5.7.1 "
            "\"Unfortunately, messages from [x.x.x.x] weren't sent ... part of their network is on our block "
            'list (S3150)"'
        ),
    ),
)
