"""Full-text search (issue 16): number, title, description, public messages, internal notes
(staff only), bug references, requester and organisation, in the desk, the portal and the API,
scoped like everything else. Runs on the suite's database: PostgreSQL in CI (ranked, stemmed,
highlighted), SQLite locally (the LIKE fallback); tests of what only PostgreSQL does say so."""

import pytest
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import Role
from accounts.services import api_token_create
from accounts.tests.factories import UserFactory
from conftest import login_with_second_factor
from tickets import services
from tickets.models import BugReference, Message
from tickets.search import MAX_QUERY_LENGTH, SearchError, parse_query, search_tickets
from tickets.tests.factories import coordinator_on, register

pytestmark = pytest.mark.django_db

postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="stemming and ranking are PostgreSQL's (tsvector)"
)


def api(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {api_token_create(user=user, name='t')[1]}")
    return client


def found(user, query: str) -> list[int]:
    return [hit.ticket_id for hit in search_tickets(user, query).hits]


@pytest.fixture
def carla(db):
    return coordinator_on("extended", full_name="Carla Verhoeven", email="carla.verhoeven@bakkerij.example")


@pytest.fixture
def world(carla, agent):
    """Carla's organisation's ticket with a customer message, a reply, an internal note and a
    bug reference; another organisation's ticket with words of its own."""
    carla.organisation.name = "Bakkerij Brood"
    carla.organisation.save()
    ticket = register(carla, title="Printer weigert afdrukken")
    Message.objects.create(
        ticket=ticket,
        kind="customer",
        author=carla,
        body="Sinds de update geeft de factuurmodule een foutmelding bij het exporteren naar Excel.",
        created_at=timezone.now(),
    )
    services.message_reply_public(ticket=ticket, by=agent, body="We kijken ernaar, dank voor het melden.")
    services.message_note_internal(
        ticket=ticket, by=agent, body="Leverancier zegt: geheugenlek in spoolservice."
    )
    BugReference.objects.create(
        ticket=ticket, reference="BUG-4711", registered_by=agent, registered_at=timezone.now()
    )
    other = coordinator_on("extended", full_name="Otto Anders")
    other_ticket = register(other, title="Zonnepanelen dashboard traag")
    Message.objects.create(
        ticket=other_ticket,
        kind="customer",
        author=other,
        body="Het kwartaaloverzicht van de zonnepanelen laadt niet.",
        created_at=timezone.now(),
    )
    return {"ticket": ticket, "other": other, "other_ticket": other_ticket}


# --- what is found, and where -------------------------------------------------------------


def test_an_agent_finds_a_ticket_by_a_phrase_in_a_customers_message(world, agent):
    result = search_tickets(agent, '"foutmelding bij het exporteren"')
    assert [hit.ticket_id for hit in result.hits] == [world["ticket"].pk]
    assert "message" in result.hits[0].where
    assert "exporteren" in result.hits[0].snippet_html


def test_a_bug_reference_is_found_whole_and_by_its_number_or_a_prefix(world, agent):
    for query in ("BUG-4711", "4711", "471", "bug-47"):
        result = search_tickets(agent, query)
        assert [hit.ticket_id for hit in result.hits] == [world["ticket"].pk], query
        assert "reference" in result.hits[0].where, query


def test_requester_name_email_and_organisation_find_the_ticket(world, agent):
    for query, where in (
        ("Carla", "requester"),
        ("Verhoeven", "requester"),
        ("carla.verhoeven@bakkerij.example", "requester"),
        ("Bakkerij", "organisation"),
    ):
        result = search_tickets(agent, query)
        assert [hit.ticket_id for hit in result.hits] == [world["ticket"].pk], query
        assert where in result.hits[0].where, query


def test_the_ticket_number_finds_it_with_or_without_the_t_and_zeros(world, agent):
    pk = world["ticket"].pk
    for query in (f"T-{pk:06d}", str(pk), f"{pk:06d}"):
        result = search_tickets(agent, query)
        assert result.hits[0].ticket_id == pk, query
        assert "number" in result.hits[0].where, query


def test_the_title_and_the_description_are_searched(world, agent):
    assert found(agent, "Printer") == [world["ticket"].pk]
    assert found(agent, "inlogscherm") == [world["other_ticket"].pk, world["ticket"].pk]  # newest first


@postgres_only
def test_dutch_and_english_stems_match_other_forms_of_a_word(world, agent):
    # "foutmeldingen" (plural) finds "foutmelding", "printers" finds "Printer"
    assert found(agent, "foutmeldingen") == [world["ticket"].pk]
    assert found(agent, "printers") == [world["ticket"].pk]


@postgres_only
def test_a_title_hit_ranks_above_a_hit_in_a_message(agent, carla):
    in_message = register(carla, title="Scherm blijft wit")
    Message.objects.create(
        ticket=in_message,
        kind="customer",
        author=carla,
        body="Ook de scanner doet niets.",
        created_at=timezone.now(),
    )
    in_title = register(carla, title="Scanner kapot")
    newest = register(carla, title="Iets anders")
    Message.objects.create(
        ticket=newest,
        kind="customer",
        author=carla,
        body="Een lange tekst over van alles, en scanner.",
        created_at=timezone.now(),
    )
    assert found(agent, "scanner")[0] == in_title.pk
    assert set(found(agent, "scanner")) == {in_title.pk, in_message.pk, newest.pk}


@postgres_only
def test_the_snippet_is_escaped_and_marks_only_the_terms(agent, carla):
    ticket = register(carla, title="<script>alert(1)</script> kassa")
    Message.objects.create(
        ticket=ticket,
        kind="customer",
        author=carla,
        body='De kassa toont <img src=x onerror="alert(2)"> en \x02 vreemde tekens.',
        created_at=timezone.now(),
    )
    hit = search_tickets(agent, "kassa").hits[0]
    assert "<script>" not in hit.title_html and "&lt;script&gt;" in hit.title_html
    assert "<mark>kassa</mark>" in hit.title_html
    # ts_headline drops tags; whatever is left is escaped, and only our <mark> is markup
    assert "<" not in hit.snippet_html.replace("<mark>", "").replace("</mark>", "")
    assert hit.snippet_html.count("<mark>") == hit.snippet_html.count("</mark>") >= 1


def test_a_changed_title_bug_and_renamed_organisation_are_found_at_once(world, agent):
    ticket = world["ticket"]
    ticket.title = "Kassasysteem hangt"
    ticket.save()
    assert found(agent, "Kassasysteem") == [ticket.pk]
    BugReference.objects.filter(ticket=ticket).delete()
    assert found(agent, "4711") == []
    organisation = ticket.organisation
    organisation.name = "Banketbakkerij Zoet"
    organisation.save()
    assert found(agent, "Banketbakkerij") == [ticket.pk]


# --- tenancy and internal notes -----------------------------------------------------------


def test_staff_find_words_of_an_internal_note(world, agent):
    result = search_tickets(agent, "geheugenlek")
    assert [hit.ticket_id for hit in result.hits] == [world["ticket"].pk]
    assert result.hits[0].where[-1] == "note"


def test_a_customer_never_finds_words_of_an_internal_note(world, carla, client):
    assert found(carla, "geheugenlek") == []
    assert found(carla, "spoolservice") == []
    login_with_second_factor(client, carla)
    page = client.get("/portal/search/", {"q": "geheugenlek"})
    assert page.status_code == 200
    assert "geheugenlek" not in page.content.decode().split("</h1>", 1)[1].split('value="')[0]
    assert world["ticket"].reference not in page.content.decode()
    body = api(carla).get("/api/v1/tickets/search/", {"q": "geheugenlek"}).json()
    assert body["results"] == []


def test_a_customer_finds_own_tickets_by_public_words_without_note_snippets(world, carla):
    result = search_tickets(carla, "Printer")
    assert [hit.ticket_id for hit in result.hits] == [world["ticket"].pk]
    assert "note" not in result.hits[0].where
    assert "geheugenlek" not in result.hits[0].snippet_html


def test_another_organisations_words_find_nothing_in_portal_and_api(world, carla, client):
    # the other organisation's title, message, requester and organisation name
    other = world["other"]
    for query in (
        "Zonnepanelen",
        "kwartaaloverzicht",
        "Otto",
        other.organisation.name,
        str(world["other_ticket"].pk),
    ):
        assert found(carla, query) == [], query
        body = api(carla).get("/api/v1/tickets/search/", {"q": query}).json()
        assert body["results"] == [], query
    login_with_second_factor(client, carla)
    page = client.get("/portal/search/", {"q": "kwartaaloverzicht"}).content.decode()
    assert world["other_ticket"].reference not in page and "Nothing found" in page
    # while its own coordinator finds it
    assert found(other, "kwartaaloverzicht") == [world["other_ticket"].pk]


def test_the_api_search_answers_ranked_hits_with_where_and_snippet(world, agent):
    body = api(agent).get("/api/v1/tickets/search/", {"q": "4711"}).json()
    assert body["results"][0]["id"] == world["ticket"].pk
    assert body["results"][0]["reference"] == world["ticket"].reference
    assert "reference" in body["results"][0]["where"]
    assert body["next_offset"] is None


# --- bounded input, pages, queries ----------------------------------------------------------


def test_bounded_input_is_a_400_or_a_form_error_never_a_500(world, agent, agent_client):
    too_long = "a" * (MAX_QUERY_LENGTH + 1)
    with pytest.raises(SearchError):
        search_tickets(agent, too_long)
    with pytest.raises(SearchError):
        search_tickets(agent, "printer", offset=10**9)
    staff = api(agent)
    for params in (
        {"q": too_long},
        {"q": "x", "limit": 0},
        {"q": "x", "limit": 101},
        {"q": "x", "offset": -1},
        {"q": "x", "offset": 10**12},
        {"q": "x", "limit": "many"},
        {"q": "a\x00b"},
    ):
        response = staff.get("/api/v1/tickets/search/", params)
        assert response.status_code == 400, params
    for params in (
        {"q": too_long},
        {"q": "x", "page": 0},
        {"q": "x", "page": 10**9},
        {"q": "x", "page": "two"},
    ):
        response = agent_client.get("/desk/search/", params)
        assert response.status_code == 400, params
        assert 'class="errorlist"' in response.content.decode()


ODD_QUERIES = [
    "''",
    '"',
    "'a':*",
    "a & b | !c",
    "(((",
    "-",
    "--4711",
    "or",
    "de het een",
    "!!!",
    "a:*",
    "\\",
    "%",
    "_",
    "ü 😀 €",
    "4711:* & x",
    "T-",
    "' or 1=1 --",
    "x" * 200,
    "1" * 60,
]


def test_odd_queries_are_answered_never_a_500(world, agent, agent_client):
    staff = api(agent)
    for query in ODD_QUERIES:
        search_tickets(agent, query)
        assert agent_client.get("/desk/search/", {"q": query}).status_code == 200, query
        assert staff.get("/api/v1/tickets/search/", {"q": query}).status_code == 200, query


def test_an_empty_query_shows_the_empty_state(agent_client):
    page = agent_client.get("/desk/search/").content.decode()
    assert "Put a phrase in quotes" in page
    page = agent_client.get("/desk/search/", {"q": "zzzyyyxxx"}).content.decode()
    assert "Nothing found for" in page


def test_the_search_box_is_in_the_header_of_every_desk_and_portal_page(world, agent_client, carla, client):
    for url in ("/desk/", f"/desk/tickets/{world['ticket'].pk}/", "/desk/search/"):
        page = agent_client.get(url).content.decode()
        assert 'action="/desk/search/"' in page and 'type="search" name="q"' in page, url
    agent_client.logout()
    login_with_second_factor(client, carla)
    page = client.get("/portal/").content.decode()
    assert 'action="/portal/search/"' in page


def test_pages_of_results_follow_each_other(agent, carla, agent_client):
    for number in range(30):
        register(carla, title=f"Koffieautomaat storing {number}")
    first = search_tickets(agent, "koffieautomaat", limit=25)
    second = search_tickets(agent, "koffieautomaat", limit=25, offset=25)
    assert first.has_next and not second.has_next
    assert len(first.hits) == 25 and len(second.hits) == 5
    assert not {h.ticket_id for h in first.hits} & {h.ticket_id for h in second.hits}
    page = agent_client.get("/desk/search/", {"q": "koffieautomaat", "page": 2}).content.decode()
    assert "page=1" in page and "Page 2" in page


def test_the_results_page_reads_a_constant_number_of_queries(
    agent, carla, agent_client, django_assert_max_num_queries
):
    for number in range(3):
        ticket = register(carla, title=f"Netwerkstoring {number}")
        Message.objects.create(
            ticket=ticket,
            kind="customer",
            author=carla,
            body="netwerkstoring op kantoor",
            created_at=timezone.now(),
        )
    agent_client.get("/desk/search/", {"q": "netwerkstoring"})  # warm: session, user
    with django_assert_max_num_queries(12) as few:
        agent_client.get("/desk/search/", {"q": "netwerkstoring"})
    for number in range(25):
        register(carla, title=f"Netwerkstoring extra {number}")
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = agent_client.get("/desk/search/", {"q": "netwerkstoring"})
    assert response.content.decode().count('class="card search-hit"') == 25


def test_the_query_is_split_into_words_prefixes_and_numbers():
    parsed = parse_query('"foutmelding bij" BUG-4711 T-000123 carla')
    assert parsed.words == '"foutmelding bij" BUG T carla'
    assert parsed.prefixes == ("4711", "000123")
    assert parsed.numbers == (4711, 123)


def test_a_user_without_a_role_to_search_gets_nothing(world):
    nobody = UserFactory(role=Role.CUSTOMER_USER)
    assert found(nobody, "Printer") == []


@postgres_only
def test_when_only_the_newest_matches_are_ranked_the_page_says_so(agent, carla, agent_client, monkeypatch):
    """A phrase of common words in very many rows is looked for among the newest rows only
    (the index would read tens of thousands to check the order): the results say so."""
    from tickets import search

    tickets = [register(carla, title=f"Koppeling {n} geeft een time-out") for n in range(6)]
    assert not search_tickets(agent, "time-out").newest_only  # all of them read: exact
    monkeypatch.setitem(search.WINDOW, "t", 2)
    monkeypatch.setitem(search.WINDOW, "m", 2)
    monkeypatch.setattr(search, "OLDER_SCAN", 0)
    result = search_tickets(agent, '"time-out"')
    assert result.newest_only and [hit.ticket_id for hit in result.hits] == [t.pk for t in tickets[:-3:-1]]
    page = agent_client.get("/desk/search/", {"q": '"time-out"'}).content.decode()
    assert 'id="search-newest-only"' in page
    assert api(agent).get("/api/v1/tickets/search/", {"q": '"time-out"'}).json()["newest_only"] is True
