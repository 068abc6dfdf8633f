import threading

import pytest
from django.db import connection
from django.test import Client

from uploads.models import Upload
from uploads.tests.helpers import create


@pytest.mark.django_db(transaction=True)
def test_two_creates_cannot_both_take_the_last_bytes(tenants, bucket):
    tenants.project_a.quota_bytes = 10_000
    tenants.project_a.save()
    first = Client()
    first.force_login(tenants.alice)
    assert create(first, tenants.project_a, 4_000).status_code == 201
    barrier = threading.Barrier(4)
    results = []

    def go(name):
        c = Client()
        c.force_login(tenants.alice)
        barrier.wait()
        try:
            resp = create(c, tenants.project_a, 6_000, name=name)
            results.append((resp.status_code, resp.json().get("code")))
        finally:
            connection.close()

    threads = [threading.Thread(target=go, args=(f"f{i}.dmp",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(r[0] for r in results) == [201, 409, 409, 409]
    assert {r[1] for r in results if r[0] == 409} == {"quota_exceeded"}
    assert sum(Upload.objects.values_list("size", flat=True)) == 10_000
