"""Chain any events written before the hash chain existed, create the chain head, and
install the PostgreSQL trigger that refuses UPDATE and DELETE on audit events.

SQLite keeps only the ORM guard (AuditEvent.save/delete and its QuerySet)."""

from django.db import migrations

TRIGGER_SQL = """
CREATE OR REPLACE FUNCTION audit_event_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit events are append-only: % refused on audit_auditevent', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;

DROP TRIGGER IF EXISTS audit_event_append_only ON audit_auditevent;
CREATE TRIGGER audit_event_append_only
    BEFORE UPDATE OR DELETE ON audit_auditevent
    FOR EACH ROW EXECUTE FUNCTION audit_event_refuse_change();
"""

DROP_TRIGGER_SQL = """
DROP TRIGGER IF EXISTS audit_event_append_only ON audit_auditevent;
DROP FUNCTION IF EXISTS audit_event_refuse_change();
"""


def backfill(apps, schema_editor):
    from audit.chain import HASHED_FIELDS, compute_hash, normalise_data
    from audit.models import GENESIS_HASH

    AuditEvent = apps.get_model("audit", "AuditEvent")
    AuditChainHead = apps.get_model("audit", "AuditChainHead")
    db = schema_editor.connection.alias
    seq, prev = 0, GENESIS_HASH
    for event in AuditEvent.objects.using(db).order_by("id").iterator(chunk_size=2000):
        seq += 1
        fields = {name: getattr(event, name, None) for name in HASHED_FIELDS}
        fields.update(seq=seq, prev_hash=prev, data=normalise_data(event.data or {}))
        digest = compute_hash(fields)
        AuditEvent.objects.using(db).filter(pk=event.pk).update(seq=seq, prev_hash=prev, hash=digest)
        prev = digest
    AuditChainHead.objects.using(db).update_or_create(pk=1, defaults={"seq": seq, "hash": prev})


def _run(schema_editor, sql: str) -> None:
    # Through a plain cursor: with no parameters, the "%" in RAISE is not a placeholder.
    if schema_editor.connection.vendor == "postgresql":
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(sql)


def install_trigger(apps, schema_editor):
    _run(schema_editor, TRIGGER_SQL)


def drop_trigger(apps, schema_editor):
    _run(schema_editor, DROP_TRIGGER_SQL)


class Migration(migrations.Migration):
    dependencies = [("audit", "0002_chain_and_append_only")]

    operations = [
        migrations.RunPython(backfill, migrations.RunPython.noop),
        migrations.RunPython(install_trigger, drop_trigger),
    ]
