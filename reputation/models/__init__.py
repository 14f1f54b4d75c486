"""The reputation app's models (tables keep their names: reputation_<model>): blocklists, sweeps and
listings in `blocklists`, the mailbox providers' own reputation data in `providers`."""

from reputation.models.blocklists import (
    Blocklist,
    CheckState,
    CheckStatus,
    Kind,
    Listing,
    Scope,
    Severity,
    Sweep,
)
from reputation.models.providers import FeedbackLoopStat, PostmasterDomainStat, ProviderAccount, SndsIpStat

__all__ = [
    "Blocklist",
    "CheckState",
    "CheckStatus",
    "FeedbackLoopStat",
    "Kind",
    "Listing",
    "PostmasterDomainStat",
    "ProviderAccount",
    "Scope",
    "Severity",
    "SndsIpStat",
    "Sweep",
]
