import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command

from accounts.models import Organization
from portal.management.commands.seed_demo import DEMO_PASSWORD
from uploads.tenancy import Tenancy


@pytest.mark.django_db
class TestSeedDemo:
    def test_it_seeds_logins_that_work_and_are_isolated(self, capsys):
        call_command("seed_demo")
        out = capsys.readouterr().out
        assert "alice@acme.example" in out and DEMO_PASSWORD in out
        alice = authenticate(username="alice@acme.example", password=DEMO_PASSWORD)
        assert alice is not None and not alice.is_staff
        names = set(Tenancy(alice).projects().values_list("name", flat=True))
        assert names == {"Oracle migration"}
        consultant = authenticate(username="consultant@example.com", password=DEMO_PASSWORD)
        assert consultant.is_staff and not consultant.is_superuser

    def test_it_is_idempotent(self):
        call_command("seed_demo")
        call_command("seed_demo")
        assert Organization.objects.count() == 2
