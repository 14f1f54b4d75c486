from django.urls import path

from campaigns.accounting import webhook
from campaigns.urls_pages import urlpatterns as pages_urlpatterns

urlpatterns = [
    path("hooks/pmta/accounting", webhook.pmta_accounting_hook, name="pmta_accounting_hook"),
]

# Pages: campaigns, stats, suppression, import history.
urlpatterns += pages_urlpatterns
