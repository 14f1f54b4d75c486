import pytest


@pytest.fixture
def provider_groups(db):
    """The default provider groups: migration data does not survive a transactional test's flush."""
    from ips.models import ProviderGroup
    from ips.providers import provider_groups_seed

    provider_groups_seed()
    return {g.name: g for g in ProviderGroup.objects.all()}
