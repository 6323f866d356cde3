from django.db import migrations

# The dashboard's count of the clocks stopped since the roll-up (managers.rollup.count_days)
# reads the clock's id and the published figures' measures (working_days, months) too: with
# them in the index of stopped clocks (0007) it reads no clock row (a bitmap heap scan of
# thousands of pages at a million tickets before).
INDEXES = {
    "postgresql": (
        "CREATE INDEX sla_clock_stopped_at ON sla_clock (stopped_at) INCLUDE (id, kind, ticket_id, "
        "calendar_id, consumed_seconds, target_seconds, working_days, months) WHERE state = 'stopped'",
        "CREATE INDEX sla_clock_stopped_at ON sla_clock (stopped_at) INCLUDE (kind, ticket_id, "
        "calendar_id, consumed_seconds, target_seconds) WHERE state = 'stopped'",
    ),
}


def _recreate(schema_editor, sql):
    schema_editor.execute("DROP INDEX IF EXISTS sla_clock_stopped_at")
    schema_editor.execute(sql)


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor in INDEXES:
        _recreate(schema_editor, INDEXES[schema_editor.connection.vendor][0])


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor in INDEXES:
        _recreate(schema_editor, INDEXES[schema_editor.connection.vendor][1])


class Migration(migrations.Migration):
    dependencies = [("sla", "0020_compliance_per_organisation")]

    operations = [migrations.RunPython(forwards, backwards)]
