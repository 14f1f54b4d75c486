"""Message search at fleet scale (issue 20): a tenant's search by recipient domain or sending IP reads an
index led by its tenant, and every search index ends with ``id``, the page's tie-break, so the page and
its capped count are index range scans (the count index-only) bounded by the retention window.

Created on the partitioned parent: Postgres builds each one on every day partition. The new indexes come
first, so the search is never without one.
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("campaigns", "0019_reingest_source_and_suppression_import_jobs"),
        ("ips", "0003_pmta_delivery"),
        ("tenants", "0004_api_tokens"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="deliveryevent",
            index=models.Index(fields=["source_ip", "time_logged", "id"], name="event_ip_time_id"),
        ),
        migrations.AddIndex(
            model_name="deliveryevent",
            index=models.Index(fields=["rcpt_domain", "time_logged", "id"], name="event_domain_time_id"),
        ),
        migrations.AddIndex(
            model_name="deliveryevent",
            index=models.Index(
                fields=["campaign", "time_logged", "id"], include=("tenant",), name="event_campaign_time_id"
            ),
        ),
        migrations.AddIndex(
            model_name="deliveryevent",
            index=models.Index(
                fields=["tenant", "rcpt_domain", "time_logged", "id"], name="event_tenant_domain"
            ),
        ),
        migrations.AddIndex(
            model_name="deliveryevent",
            index=models.Index(fields=["tenant", "source_ip", "time_logged", "id"], name="event_tenant_ip"),
        ),
        migrations.RemoveIndex(model_name="deliveryevent", name="event_ip_time"),
        migrations.RemoveIndex(model_name="deliveryevent", name="event_domain_time"),
        migrations.RemoveIndex(model_name="deliveryevent", name="event_campaign_time"),
    ]
