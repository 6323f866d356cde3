"""``GET /api/v1/tickets/search/?q=``: the search of the desk and the portal over the API."""

from rest_framework import serializers

from tickets.search import MAX_LIMIT, MAX_OFFSET, MAX_QUERY_LENGTH, WHERE_LABELS


class SearchIn(serializers.Serializer):
    q = serializers.CharField(
        max_length=MAX_QUERY_LENGTH,
        allow_blank=True,
        help_text='Words, "a phrase", or, -word; tokens with a digit match as prefixes (4711, T-0001).',
    )
    limit = serializers.IntegerField(min_value=1, max_value=MAX_LIMIT, default=25)
    offset = serializers.IntegerField(min_value=0, max_value=MAX_OFFSET, default=0)


class SearchHitSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="ticket_id")
    reference = serializers.CharField()
    title = serializers.CharField()
    status = serializers.CharField()
    priority = serializers.IntegerField()
    kind = serializers.CharField()
    registered_at = serializers.DateTimeField()
    organisation = serializers.CharField()
    rank = serializers.FloatField()
    where = serializers.ListField(child=serializers.ChoiceField(choices=WHERE_LABELS))
    title_html = serializers.CharField(help_text="The title, HTML-escaped, the terms found in <mark>.")
    snippet_html = serializers.CharField(help_text="Where the terms were found, HTML-escaped, in <mark>.")
    message_id = serializers.IntegerField(allow_null=True, help_text="The message the terms were found in.")


class SearchOut(serializers.Serializer):
    query = serializers.CharField()
    limit = serializers.IntegerField()
    offset = serializers.IntegerField()
    next_offset = serializers.IntegerField(allow_null=True)
    newest_only = serializers.BooleanField(
        help_text="Only the newest matches were ranked (a phrase or pair of very common words)."
    )
    results = SearchHitSerializer(many=True, source="hits")
