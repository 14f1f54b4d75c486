from django.urls import path

from campaigns import ingest_webhook
from campaigns.urls_pages import urlpatterns as pages_urlpatterns

urlpatterns = [
    path("hooks/pmta/accounting", ingest_webhook.pmta_accounting_hook, name="pmta_accounting_hook"),
]

# Pages: campaigns, stats, suppression, import history.
urlpatterns += pages_urlpatterns
