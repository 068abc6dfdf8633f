from portal.celery_app import app


def test_every_scheduled_task_exists():
    app.loader.import_default_modules()
    for name, entry in app.conf.beat_schedule.items():
        assert entry["task"] in app.tasks, f"beat entry {name!r} names an unknown task"


def test_verification_task_is_registered_under_the_name_the_api_sends():
    app.loader.import_default_modules()
    assert "uploads.verify_upload" in app.tasks
