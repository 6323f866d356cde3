"""Search and suggestions: Dutch and English stemming on PostgreSQL, ranked, and only what
the reader may see (anonymous: public; customers: public and customers'; staff: all)."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import connection

from accounts.models import Role
from accounts.tests.factories import UserFactory
from knowledge import selectors
from knowledge.models import ArticleStatus

pytestmark = pytest.mark.django_db
postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="stemming and ranking are PostgreSQL's full-text search"
)


@postgres_only
def test_dutch_words_match_their_stem(make_article):
    article = make_article(
        title="Printers geven lege afdrukken", body="Controleer de stuurprogramma's.", language="nl"
    )
    make_article(title="Wachtwoord vergeten", body="Vraag een nieuw wachtwoord aan.", language="nl")
    found = list(selectors.article_search(user=AnonymousUser(), q="printer afdruk"))
    assert found == [] or found == [article]  # anonymous sees no customers' article
    customer = UserFactory()
    assert list(selectors.article_search(user=customer, q="printer afdruk")) == [article]
    assert list(selectors.article_search(user=customer, q="stuurprogramma")) == [article]


@postgres_only
def test_english_words_match_their_stem(make_article):
    article = make_article(title="Exports failing at night", body="The scheduler stopped running exports.")
    customer = UserFactory()
    assert list(selectors.article_search(user=customer, q="export fails")) == [article]
    assert list(selectors.article_search(user=customer, q="schedulers run")) == [article]


@postgres_only
def test_a_match_in_the_title_ranks_above_one_in_the_text(make_article):
    in_text = make_article(title="General settings", body="How the invoice layout is chosen. " * 3)
    in_title = make_article(title="Invoice layout", body="Choose a template.")
    customer = UserFactory()
    assert list(selectors.article_search(user=customer, q="invoice layout")) == [in_title, in_text]


@postgres_only
def test_suggestions_read_the_typed_title_loosely(make_article):
    printer = make_article(title="Printer prints blank pages")
    make_article(title="Password forgotten", body="Ask for a new password.")
    coordinator = UserFactory(role=Role.COORDINATOR)
    # not every word of the typed title is in the article, and a quote does no harm
    suggestions = selectors.article_suggestions(user=coordinator, text="our printer's output is blank!")
    assert suggestions[0] == printer and len(suggestions) == 1


@postgres_only
def test_suggestions_put_all_the_words_first_then_the_title_then_the_text(
    make_article, django_assert_num_queries
):
    in_text = make_article(title="General settings", body="The toner of the printer is empty. " * 4)
    in_title = make_article(title="Printer says toner low", body="Order a new cartridge.")
    one_word = make_article(title="Printer jams", body="Open the tray and remove the paper.")
    hidden = make_article(title="Printer toner for staff", visibility="staff")
    draft = make_article(title="Printer toner draft", status=ArticleStatus.DRAFT)
    coordinator = UserFactory(role=Role.COORDINATOR)
    with django_assert_num_queries(1):  # both passes (all words, any word) in one statement
        suggestions = selectors.article_suggestions(user=coordinator, text="printer toner")
    assert suggestions == [in_title, in_text, one_word]
    assert hidden not in suggestions and draft not in suggestions
    # Dutch is stemmed as Dutch: "afdrukken" finds the article about "afdrukken"
    dutch = make_article(title="Printer geeft lege afdrukken", body="Vervang de toner.", language="nl")
    assert selectors.article_suggestions(user=coordinator, text="lege afdrukken") == [dutch]


@postgres_only
def test_suggestions_rank_a_bounded_set_of_candidates(make_article, monkeypatch):
    for i in range(4):
        make_article(title=f"Export number {i}", body="Exports run at night.")
    monkeypatch.setattr(selectors, "SUGGESTION_CANDIDATES", 2)
    coordinator = UserFactory(role=Role.COORDINATOR)
    # at most two candidates are ranked (one word: one pass), though four articles match
    assert len(selectors.article_suggestions(user=coordinator, text="export")) == 2


def test_suggestions_of_nothing_typed_are_none(make_article):
    make_article()
    assert selectors.article_suggestions(user=UserFactory(role=Role.COORDINATOR), text=" ,. ") == []


def test_each_reader_sees_what_the_visibility_allows(make_article, make_staff):
    public = make_article(title="Public note about exports", visibility="public")
    customers = make_article(title="Customers note about exports", visibility="customers")
    staff_only = make_article(title="Staff note about exports", visibility="staff")
    draft = make_article(title="Draft note about exports", visibility="public", status=ArticleStatus.DRAFT)
    # anonymous: public only; customers of any organisation (tenant neutral): public and customers'
    assert set(selectors.article_visible_to(AnonymousUser())) == {public}
    for customer in (UserFactory(), UserFactory(role=Role.COORDINATOR)):
        assert set(selectors.article_visible_to(customer)) == {public, customers}
        assert set(selectors.article_search(user=customer, q="exports")) == {public, customers}
    # staff read everything, drafts included; their search shows only what is published
    agent = make_staff(totp=False)
    assert set(selectors.article_visible_to(agent)) == {public, customers, staff_only, draft}
    assert set(selectors.article_search(user=agent, q="exports")) == {public, customers, staff_only}


@postgres_only
def test_the_search_page_ranks_a_bounded_set_of_matches(make_article, monkeypatch):
    for i in range(3):
        make_article(title=f"Export number {i}", body="Exports run at night.")
    in_title = make_article(title="Night export", body="Runs at night.")
    customer = UserFactory()
    assert selectors.article_search(user=customer, q="night export").first() == in_title
    monkeypatch.setattr(selectors, "SEARCH_CANDIDATES", 2)
    assert selectors.article_search(user=customer, q="export").count() == 2  # of four matches


@postgres_only
def test_the_search_pages_cap_matches_in_its_own_rows(make_article, monkeypatch):
    """The cap is a subquery (aliased U0): a RawSQL naming knowledge_article.search there
    read the outer row, so the subquery returned the first articles whatever they said."""
    make_article(title="Password forgotten", body="Ask for a new password.")
    make_article(title="Account locked", body="Wait ten minutes.")
    export = make_article(title="Nightly export", body="Exports run at night.")
    make_article(title="Invoice layout", body="Choose a template.")
    make_article(title="Calendar sync", body="Connect your calendar.")
    monkeypatch.setattr(selectors, "SEARCH_CANDIDATES", 2)
    assert list(selectors.article_search(user=UserFactory(), q="export")) == [export]
