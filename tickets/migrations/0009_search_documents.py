"""Full-text search documents (PostgreSQL only; SQLite searches with LIKE, tickets/search.py).

``tickets_ticket.search_document``: the ticket's number (A), title (A), bug references (A),
requester's name and e-mail and organisation (B), description (C). ``tickets_message.
search_document``: the message body. Both Dutch and English stems, GIN-indexed.

Triggers keep them, not the services: every write path (services, admin, mail intake, seeds,
bulk loads, a renamed organisation or user) stays in step in its own transaction, and no
service can forget one. The columns are not Django fields, so the models stay the same on
SQLite. Non-atomic: the backfill commits batch by batch and the indexes are built
CONCURRENTLY, so a big table is not locked for the whole migration.
"""

from django.db import migrations

BATCH = 20_000

FUNCTIONS = r"""
CREATE OR REPLACE FUNCTION tickets_search_text(body text) RETURNS tsvector
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
    -- "BUG-4711" parses as 'bug' and the signed number '-4711': split it so "4711" finds it.
    plain text := regexp_replace(left(coalesce(body, ''), 100000), '-(?=[0-9])', ' ', 'g');
BEGIN
    RETURN to_tsvector('dutch'::regconfig, plain) || to_tsvector('english'::regconfig, plain);
END $$;

CREATE OR REPLACE FUNCTION tickets_ticket_document(
    ticket_id bigint, title text, description text, organisation_id bigint, requester_id bigint
) RETURNS tsvector LANGUAGE plpgsql STABLE AS $$
DECLARE
    refs text;
    requester text;
    organisation text;
BEGIN
    SELECT string_agg(b.reference, ' ') INTO refs FROM tickets_bugreference b WHERE b.ticket_id = $1;
    SELECT concat_ws(' ', u.full_name, u.email, replace(u.email, '@', ' ')) INTO requester
        FROM accounts_user u WHERE u.id = requester_id;
    SELECT o.name INTO organisation FROM accounts_organisation o WHERE o.id = $4;
    RETURN setweight(tickets_search_text(
               concat_ws(' ', 'T-' || lpad(ticket_id::text, 6, '0'), ticket_id::text, title, refs)), 'A')
        || setweight(tickets_search_text(concat_ws(' ', requester, organisation)), 'B')
        || setweight(tickets_search_text(description), 'C');
END $$;

CREATE OR REPLACE FUNCTION tickets_ticket_search_row() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.search_document := tickets_ticket_document(
        NEW.id, NEW.title, NEW.description, NEW.organisation_id, NEW.registered_by_id);
    RETURN NEW;
END $$;

CREATE OR REPLACE FUNCTION tickets_message_search_row() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.search_document := tickets_search_text(NEW.body);
    RETURN NEW;
END $$;

-- A bug reference added, changed or removed, a requester or organisation renamed: the
-- tickets they belong to get their document again.
CREATE OR REPLACE FUNCTION tickets_bug_search_refresh() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE tickets_ticket t SET search_document = tickets_ticket_document(
            t.id, t.title, t.description, t.organisation_id, t.registered_by_id)
        WHERE t.id IN (OLD.ticket_id, NEW.ticket_id);
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION tickets_user_search_refresh() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE tickets_ticket t SET search_document = tickets_ticket_document(
            t.id, t.title, t.description, t.organisation_id, t.registered_by_id)
        WHERE t.registered_by_id = NEW.id;
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION tickets_organisation_search_refresh() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE tickets_ticket t SET search_document = tickets_ticket_document(
            t.id, t.title, t.description, t.organisation_id, t.registered_by_id)
        WHERE t.organisation_id = NEW.id;
    RETURN NULL;
END $$;
"""

TRIGGERS = """
ALTER TABLE tickets_ticket ADD COLUMN IF NOT EXISTS search_document tsvector;
ALTER TABLE tickets_message ADD COLUMN IF NOT EXISTS search_document tsvector;

CREATE TRIGGER tickets_ticket_search_insert BEFORE INSERT ON tickets_ticket
    FOR EACH ROW EXECUTE FUNCTION tickets_ticket_search_row();
-- Every service saves the ticket (its version goes up): only a change of a searched column
-- computes the document again.
CREATE TRIGGER tickets_ticket_search_update
    BEFORE UPDATE OF title, description, organisation_id, registered_by_id ON tickets_ticket
    FOR EACH ROW WHEN (OLD.title IS DISTINCT FROM NEW.title
                       OR OLD.description IS DISTINCT FROM NEW.description
                       OR OLD.organisation_id IS DISTINCT FROM NEW.organisation_id
                       OR OLD.registered_by_id IS DISTINCT FROM NEW.registered_by_id)
    EXECUTE FUNCTION tickets_ticket_search_row();
CREATE TRIGGER tickets_message_search_insert BEFORE INSERT ON tickets_message
    FOR EACH ROW EXECUTE FUNCTION tickets_message_search_row();
CREATE TRIGGER tickets_message_search_update BEFORE UPDATE OF body ON tickets_message
    FOR EACH ROW WHEN (OLD.body IS DISTINCT FROM NEW.body) EXECUTE FUNCTION tickets_message_search_row();
CREATE TRIGGER tickets_bug_search AFTER INSERT OR UPDATE OR DELETE ON tickets_bugreference
    FOR EACH ROW EXECUTE FUNCTION tickets_bug_search_refresh();
CREATE TRIGGER tickets_user_search AFTER UPDATE OF full_name, email ON accounts_user
    FOR EACH ROW WHEN (OLD.full_name IS DISTINCT FROM NEW.full_name OR OLD.email IS DISTINCT FROM NEW.email)
    EXECUTE FUNCTION tickets_user_search_refresh();
CREATE TRIGGER tickets_organisation_search AFTER UPDATE OF name ON accounts_organisation
    FOR EACH ROW WHEN (OLD.name IS DISTINCT FROM NEW.name)
    EXECUTE FUNCTION tickets_organisation_search_refresh();
"""

BACKFILL = {
    "tickets_ticket": "UPDATE tickets_ticket t SET search_document = tickets_ticket_document("
    "t.id, t.title, t.description, t.organisation_id, t.registered_by_id) WHERE t.id > %s AND t.id <= %s",
    "tickets_message": "UPDATE tickets_message SET search_document = tickets_search_text(body) "
    "WHERE id > %s AND id <= %s",
}

INDEXES = (
    "CREATE INDEX CONCURRENTLY IF NOT EXISTS ticket_search ON tickets_ticket USING gin (search_document)",
    "CREATE INDEX CONCURRENTLY IF NOT EXISTS message_search ON tickets_message USING gin (search_document)",
)

REVERSE = """
DROP TRIGGER IF EXISTS tickets_ticket_search_insert ON tickets_ticket;
DROP TRIGGER IF EXISTS tickets_ticket_search_update ON tickets_ticket;
DROP TRIGGER IF EXISTS tickets_message_search_insert ON tickets_message;
DROP TRIGGER IF EXISTS tickets_message_search_update ON tickets_message;
DROP TRIGGER IF EXISTS tickets_bug_search ON tickets_bugreference;
DROP TRIGGER IF EXISTS tickets_user_search ON accounts_user;
DROP TRIGGER IF EXISTS tickets_organisation_search ON accounts_organisation;
ALTER TABLE tickets_ticket DROP COLUMN IF EXISTS search_document;
ALTER TABLE tickets_message DROP COLUMN IF EXISTS search_document;
DROP FUNCTION IF EXISTS tickets_organisation_search_refresh();
DROP FUNCTION IF EXISTS tickets_user_search_refresh();
DROP FUNCTION IF EXISTS tickets_bug_search_refresh();
DROP FUNCTION IF EXISTS tickets_message_search_row();
DROP FUNCTION IF EXISTS tickets_ticket_search_row();
DROP FUNCTION IF EXISTS tickets_ticket_document(bigint, text, text, bigint, bigint);
DROP FUNCTION IF EXISTS tickets_search_text(text);
"""


def forwards(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute(FUNCTIONS)
        cursor.execute(TRIGGERS)  # from here on every write keeps its document
        for table, update in BACKFILL.items():
            cursor.execute(f"SELECT coalesce(max(id), 0) FROM {table}")  # noqa: S608  # nosec B608
            (last,) = cursor.fetchone()
            for start in range(0, last, BATCH):  # one commit per batch: no long lock
                cursor.execute(update, [start, start + BATCH])
        for index in INDEXES:
            cursor.execute(index)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(REVERSE)


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("accounts", "0011_notification_defaults_for_existing_customers"),
        ("tickets", "0008_desk_workspace"),
    ]

    operations = [migrations.RunPython(forwards, backwards, elidable=False)]
