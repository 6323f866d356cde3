"""The knowledge base's pages: public articles without login, the registration's suggestions
and "This solved it", feedback, the desk's editor and workflow, and the managers' count."""

import json
import re
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role
from accounts.tests.factories import UserFactory
from conftest import login_with_second_factor
from knowledge.models import Article, ArticleFeedback, ArticleStatus, Deflection
from tickets.models import Ticket

pytestmark = pytest.mark.django_db


def _client_for(user) -> Client:
    client = Client()
    if user.is_support_staff:
        login_with_second_factor(client, user)
    else:
        client.force_login(user)
    return client


def test_a_public_article_opens_without_login(client, make_article):
    article = make_article(title="Status page", body="See **status**.", visibility="public")
    response = client.get(reverse("kb:article", args=[article.slug]))
    assert response.status_code == 200
    assert "<strong>status</strong>" in response.content.decode()
    assert article.slug in client.get(reverse("kb:index")).content.decode()


def test_a_customers_article_asks_an_anonymous_reader_to_log_in(client, make_article):
    article = make_article(visibility="customers")
    response = client.get(reverse("kb:article", args=[article.slug]))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert article.slug not in client.get(reverse("kb:index")).content.decode()


def test_staff_articles_and_drafts_are_hidden_from_customers(make_article):
    staff_only = make_article(visibility="staff")
    draft = make_article(title="Unfinished", status=ArticleStatus.DRAFT)
    customer = _client_for(UserFactory())
    for article in (staff_only, draft):
        assert customer.get(reverse("kb:article", args=[article.slug])).status_code == 404


def test_the_login_page_and_the_portal_link_to_the_knowledge_base(client, make_article):
    assert reverse("kb:index") in client.get(reverse("account_login")).content.decode()
    customer = _client_for(UserFactory())
    assert 'id="nav-kb"' in customer.get(reverse("kb:index")).content.decode()


def test_suggestions_show_the_matching_article_with_this_solved_it(make_article):
    article = make_article(title="Printer prints blank pages")
    coordinator = _client_for(UserFactory(role=Role.COORDINATOR))
    response = coordinator.get(reverse("portal_kb:suggest"), {"q": "printer blank", "title": "Printer blank"})
    html = response.content.decode()
    assert response.status_code == 200 and article.title in html
    assert reverse("portal_kb:solved") in html and 'value="Printer blank"' in html


def test_suggestions_are_for_coordinators_and_bounded(make_article):
    assert _client_for(UserFactory()).get(reverse("portal_kb:suggest"), {"q": "x"}).status_code == 403
    coordinator = _client_for(UserFactory(role=Role.COORDINATOR))
    assert coordinator.get(reverse("portal_kb:suggest"), {"q": "x" * 2001}).status_code == 400


def test_this_solved_it_counts_a_deflection_and_registers_nothing(make_article):
    article = make_article()
    user = UserFactory(role=Role.COORDINATOR)
    coordinator = _client_for(user)
    response = coordinator.post(
        reverse("portal_kb:solved"), {"article": article.pk, "title": "Lege pagina's"}, follow=True
    )
    assert response.status_code == 200 and "no ticket was registered" in response.content.decode()
    assert Deflection.objects.filter(article=article, organisation=user.organisation).count() == 1
    assert Ticket.objects.count() == 0


def test_this_solved_it_refuses_an_unknown_or_hidden_article(make_article):
    staff_only = make_article(visibility="staff")
    coordinator = _client_for(UserFactory(role=Role.COORDINATOR))
    for data in ({"article": staff_only.pk}, {"article": "x"}, {}):
        assert coordinator.post(reverse("portal_kb:solved"), data).status_code == 400
    assert Deflection.objects.count() == 0


def test_feedback_is_saved_and_bounded(make_article):
    article = make_article()
    reader = _client_for(UserFactory())
    url = reverse("kb:feedback", args=[article.slug])
    assert reader.post(url, {"helpful": "maybe"}).status_code == 400
    assert reader.post(url, {"helpful": "no", "comment": "x" * 1001}).status_code == 400
    assert reader.post(url, {"helpful": "no", "comment": "Unclear"}).status_code == 302
    assert list(ArticleFeedback.objects.values_list("helpful", "comment")) == [(False, "Unclear")]
    assert Client().post(url, {"helpful": "yes"}).status_code == 302  # to the login page
    assert ArticleFeedback.objects.count() == 1


def test_an_agent_writes_and_submits_a_manager_publishes(make_staff):
    agent = _client_for(make_staff(Role.AGENT))
    data = {
        "title": "VPN disconnects",
        "body_markdown": "Renew the **certificate**.",
        "language": "en",
        "visibility": "public",
        "product": "",
        "translation_of": "",
    }
    preview = agent.post(reverse("desk_kb:new"), {**data, "preview": "1"})
    assert "<strong>certificate</strong>" in preview.content.decode() and not Article.objects.exists()
    assert agent.post(reverse("desk_kb:new"), {**data, "title": "x" * 201}).status_code == 400
    response = agent.post(reverse("desk_kb:new"), data)
    article = Article.objects.get()
    assert response.status_code == 302 and article.status == ArticleStatus.DRAFT
    agent.post(reverse("desk_kb:edit", args=[article.pk]), {**data, "body_markdown": "Renew it."})
    revision = article.revisions.get()
    assert agent.get(reverse("desk_kb:revision", args=[article.pk, revision.pk])).status_code == 200
    agent.post(reverse("desk_kb:step", args=[article.pk, "submit"]))
    agent.post(reverse("desk_kb:step", args=[article.pk, "publish"]))  # refused: not a manager
    article.refresh_from_db()
    assert article.status == ArticleStatus.IN_REVIEW
    manager = _client_for(make_staff(Role.MANAGER))
    manager.post(reverse("desk_kb:step", args=[article.pk, "publish"]))
    article.refresh_from_db()
    assert article.status == ArticleStatus.PUBLISHED
    assert Client().get(reverse("kb:article", args=[article.slug])).status_code == 200


def test_customers_never_reach_the_desk_editor(make_article):
    customer = _client_for(UserFactory(role=Role.COORDINATOR))
    assert customer.get(reverse("desk_kb:list")).status_code == 403
    assert customer.get(reverse("desk_kb:pick"), {"q": "x"}).status_code == 403


def test_the_picker_offers_published_articles_customers_can_read(make_article, make_staff):
    public = make_article(title="Exports: public", visibility="public")
    make_article(title="Exports: staff", visibility="staff")
    make_article(title="Exports: draft", status=ArticleStatus.DRAFT)
    agent = _client_for(make_staff(Role.AGENT))
    found = json.loads(agent.get(reverse("desk_kb:pick"), {"q": "exports"}).content)["articles"]
    assert [a["title"] for a in found] == [public.title]
    assert found[0]["url"].endswith(f"/kb/{public.slug}/") and found[0]["url"].startswith("http")


def test_the_article_page_shows_staff_the_tickets_that_cited_it(make_article, make_staff):
    from tickets import services as ticket_services
    from tickets.tests.factories import coordinator_on, register

    article = make_article()
    agent_user = make_staff(Role.AGENT)
    ticket = register(coordinator_on("extended"))
    ticket_services.message_reply_public(ticket=ticket, by=agent_user, body=f"See /kb/{article.slug}/")
    staff_page = _client_for(agent_user).get(reverse("kb:article", args=[article.slug])).content.decode()
    assert ticket.reference in staff_page
    customer_page = _client_for(ticket.registered_by).get(reverse("kb:article", args=[article.slug]))
    assert ticket.reference not in customer_page.content.decode()


def test_managers_see_registrations_prevented_per_article(
    make_article, make_staff, django_assert_max_num_queries
):
    articles = [make_article(title=f"Article {n}") for n in range(3)]
    for n, article in enumerate(articles):
        for _ in range(n + 1):
            Deflection.objects.create(
                article=article,
                organisation=UserFactory().organisation,
                user=UserFactory(role=Role.COORDINATOR),
            )
    manager = _client_for(make_staff(Role.MANAGER))
    with django_assert_max_num_queries(12):
        html = manager.get(reverse("manager:knowledge")).content.decode()
    assert html.index("Article 2") < html.index("Article 1") < html.index("Article 0")
    assert "6 registrations were prevented" in html
    assert _client_for(make_staff(Role.AGENT)).get(reverse("manager:knowledge")).status_code == 403


def test_the_reader_pages_take_a_constant_number_of_queries(make_article, django_assert_max_num_queries):
    for n in range(5):
        make_article(title=f"Exports {n}", visibility="public")
    client = Client()
    with django_assert_max_num_queries(4):
        assert client.get(reverse("kb:index"), {"q": "exports"}).status_code == 200
    for n in range(5, 30):
        make_article(title=f"Exports {n}", visibility="public")
    with django_assert_max_num_queries(4):
        assert client.get(reverse("kb:index"), {"q": "exports"}).status_code == 200


def test_the_managers_dashboard_counts_registrations_prevented_this_month(make_article, make_staff):
    article = make_article()
    coordinator = UserFactory(role=Role.COORDINATOR)
    for _ in range(2):
        Deflection.objects.create(article=article, organisation=coordinator.organisation, user=coordinator)
    old = Deflection.objects.create(article=article, organisation=coordinator.organisation, user=coordinator)
    Deflection.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=40))
    html = _client_for(make_staff(Role.MANAGER)).get(reverse("manager:home")).content.decode()
    assert re.search(r'id="total-prevented"[^>]*>2<', html)
