"""DNS checks for sending domains: SPF, DKIM, DMARC and the return-path MX.

Pure Python (no Django): each check takes a dnspython resolver (see ``core.dnsresolver``) and
returns a ``CheckResult``. A DNS failure is always "unknown", never "missing".
"""

from domains.checks.dkim import check_dkim, check_dkim_published
from domains.checks.dmarc import check_dmarc
from domains.checks.mx import check_mx
from domains.checks.result import CheckResult
from domains.checks.spf import check_spf

__all__ = ["CheckResult", "check_dkim", "check_dkim_published", "check_dmarc", "check_mx", "check_spf"]
