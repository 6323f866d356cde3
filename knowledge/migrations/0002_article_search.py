"""Full-text search of articles on PostgreSQL: a stored generated column, the title (weight A)
above the text (weight B), stemmed in the article's own language, and a GIN index over it.
SQLite has no tsvector: the selectors fall back to icontains there, so nothing is made."""

from django.db import migrations

CREATE = """
ALTER TABLE knowledge_article ADD COLUMN search tsvector GENERATED ALWAYS AS (
    setweight(to_tsvector(
        CASE language WHEN 'nl' THEN 'dutch'::regconfig ELSE 'english'::regconfig END,
        coalesce(title, '')), 'A')
    || setweight(to_tsvector(
        CASE language WHEN 'nl' THEN 'dutch'::regconfig ELSE 'english'::regconfig END,
        coalesce(body_markdown, '')), 'B')
) STORED;
CREATE INDEX knowledge_article_search ON knowledge_article USING gin (search);
"""

DROP = """
DROP INDEX IF EXISTS knowledge_article_search;
ALTER TABLE knowledge_article DROP COLUMN IF EXISTS search;
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("knowledge", "0001_articles")]

    operations = [migrations.RunPython(forwards, backwards)]
