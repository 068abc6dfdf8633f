from datetime import timedelta

from django.utils import timezone

from uploads.models import Upload
from uploads.tests.bgutils import make_upload

URL = "/admin/uploads/uploadinprogress/"
MIB = 1024 * 1024


def in_progress(project, user, name, status=Upload.Status.UPLOADING, *, done=0, minutes_running=10, quiet=0):
    upload = make_upload(project, user=user, name=name, size=100 * MIB, status=status, bytes_confirmed=done)
    now = timezone.now()
    Upload.objects.filter(pk=upload.pk).update(
        created_at=now - timedelta(minutes=minutes_running),
        last_progress_at=now - timedelta(minutes=quiet) if done else None,
    )
    return upload


class TestInProgressPage:
    def test_it_lists_stalled_first_with_speed_and_time_left(self, client, tenants):
        # 50 MiB in 10 minutes is 85 KiB/s; the other 50 MiB take 10 more minutes.
        in_progress(tenants.project_a, tenants.alice, "running.dmp", done=50 * MIB)
        in_progress(
            tenants.project_a, tenants.alice, "stuck.dmp", Upload.Status.STALLED, done=10 * MIB, quiet=5
        )
        make_upload(tenants.project_a, user=tenants.alice, name="finished.dmp", status=Upload.Status.VERIFIED)
        client.force_login(tenants.consultant)
        page = client.get(URL).content.decode()
        assert page.index("stuck.dmp") < page.index("running.dmp")
        assert "finished.dmp" not in page
        assert "50.0 MiB of 100.0 MiB (50%)" in page
        assert "85.3 KiB/s" in page
        assert "10 min 00 s" in page

    def test_consultants_see_only_their_organisations(self, client, tenants):
        in_progress(tenants.project_a, tenants.alice, "acme.dmp")
        in_progress(tenants.project_b, tenants.bob, "globex.dmp")
        client.force_login(tenants.other_consultant)
        page = client.get(URL).content.decode()
        assert "globex.dmp" in page and "acme.dmp" not in page

    def test_customers_cannot_open_it(self, client, tenants):
        client.force_login(tenants.alice)
        response = client.get(URL)
        assert response.status_code == 302 and "/admin/login/" in response["Location"]

    def test_file_names_are_escaped(self, client, tenants):
        in_progress(tenants.project_a, tenants.alice, "<script>x()</script>.dmp")
        client.force_login(tenants.consultant)
        page = client.get(URL).content.decode()
        assert "<script>x()</script>" not in page
        assert "&lt;script&gt;x()&lt;/script&gt;.dmp" in page


class TestProjectSettings:
    def test_consultants_set_verification_and_webhook_options(self, client, tenants):
        client.force_login(tenants.consultant)
        page = client.get(f"/admin/uploads/uploadproject/{tenants.project_a.pk}/change/").content.decode()
        for field in ("deep_verify", "grace_period_hours", "abandon_after_hours", "webhook_url"):
            assert f'name="{field}"' in page

    def test_a_private_webhook_url_is_refused_in_the_form(self, tenants):
        from django.core.exceptions import ValidationError

        tenants.project_a.webhook_url = "https://10.0.0.8/hook"
        try:
            tenants.project_a.full_clean()
        except ValidationError as exc:
            assert "non-public address" in str(exc.message_dict["webhook_url"])
        else:
            raise AssertionError("a private webhook address was accepted")
