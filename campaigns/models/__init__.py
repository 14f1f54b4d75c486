"""The campaigns app's models, one module a concept (tables keep their names: campaigns_<model>).

Accounting data: where records came from (files, webhook), every record (short-lived), daily
aggregates (kept for good), campaigns and each tenant's suppression list.

Unique-key columns use '' rather than NULL, except tenant, whose constraints say NULLS NOT DISTINCT
(Postgres 15+), so ``INSERT ... ON CONFLICT`` upserts always find the existing row.
"""

from campaigns.models.accounting import AccountingCounter, AccountingFile, ImportRejection
from campaigns.models.enforcement import TenantHold
from campaigns.models.events import BOUNCES, Campaign, DeliveryEvent, diag_text
from campaigns.models.stats import DailyCampaignStat, DailyDomainStat, DailyStat, DailyTenantStat
from campaigns.models.suppression import Suppression, SuppressionImport

__all__ = [
    "BOUNCES",
    "AccountingCounter",
    "AccountingFile",
    "Campaign",
    "DailyCampaignStat",
    "DailyDomainStat",
    "DailyStat",
    "DailyTenantStat",
    "DeliveryEvent",
    "ImportRejection",
    "Suppression",
    "SuppressionImport",
    "TenantHold",
    "diag_text",
]
