"""The knowledge base's writes: revisions, the review workflow, feedback, deflections and
citations."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from accounts.models import Notification, NotificationTopic, Role
from accounts.tests.factories import UserFactory
from knowledge import services
from knowledge.models import ArticleStatus, Citation, Deflection
from tickets.models import Ticket

pytestmark = pytest.mark.django_db


def test_every_edit_keeps_the_previous_text_with_who_wrote_it_and_when(make_article, make_staff):
    # given a draft written by one agent
    article = make_article(title="VPN drops", body="First text.", status=ArticleStatus.DRAFT)
    first_author, first_written = article.author, article.updated_at
    editor = make_staff(totp=False)
    # when another agent edits it twice
    fields = {"language": "en", "visibility": "customers"}
    services.article_update(article=article, by=editor, title="VPN drops", body_markdown="Second.", **fields)
    services.article_update(
        article=article, by=first_author, title="VPN drops off", body_markdown="Third.", **fields
    )
    # then both earlier texts are kept, newest first, each with its writer and time
    revisions = list(article.revisions.all())
    assert [r.body_markdown for r in revisions] == ["Second.", "First text."]
    assert [r.edited_by for r in revisions] == [editor, first_author]
    assert revisions[1].edited_at == first_written
    article.refresh_from_db()
    assert article.body_markdown == "Third." and article.title == "VPN drops off"


def test_saving_settings_only_keeps_no_revision(make_article, make_staff):
    article = make_article(status=ArticleStatus.DRAFT)
    services.article_update(
        article=article,
        by=article.author,
        title=article.title,
        body_markdown=article.body_markdown,
        language="en",
        visibility="public",
    )
    assert article.revisions.count() == 0


def test_only_a_manager_publishes_and_only_from_review(make_article, make_staff):
    article = make_article(status=ArticleStatus.DRAFT)
    agent, manager = article.author, make_staff(Role.MANAGER, totp=False)
    with pytest.raises(ValidationError):  # a draft is not reviewed yet
        services.article_publish(article=article, by=manager)
    services.article_submit(article=article, by=agent)
    with pytest.raises(PermissionDenied):  # the author cannot approve their own
        services.article_publish(article=article, by=agent)
    published = services.article_publish(article=article, by=manager)
    assert published.status == ArticleStatus.PUBLISHED
    assert published.reviewer == manager and published.published_at is not None


def test_a_customer_writes_no_article(db):
    customer = UserFactory(role=Role.COORDINATOR)
    with pytest.raises(PermissionDenied):
        services.article_create(
            by=customer, title="Mine", body_markdown="x", language="nl", visibility="public"
        )


def test_sending_back_needs_a_reason_and_tells_the_author(make_article, make_staff):
    article = make_article(status=ArticleStatus.IN_REVIEW)
    manager = make_staff(Role.MANAGER, totp=False)
    with pytest.raises(ValidationError):
        services.article_send_back(article=article, by=manager, note="  ")
    services.article_send_back(article=article, by=manager, note="Add the driver version.")
    article.refresh_from_db()
    assert article.status == ArticleStatus.DRAFT and article.review_note == "Add the driver version."
    mail = Notification.objects.get(recipient=article.author, topic=NotificationTopic.KNOWLEDGE)
    assert "Add the driver version." in mail.body and f"/desk/kb/{article.pk}/" in mail.link


def test_an_article_with_bad_links_is_not_published(make_article, make_staff):
    article = make_article(body="See [here](javascript:alert(1)).", status=ArticleStatus.IN_REVIEW)
    assert article.link_problems and article.link_problems[0]["url"] == "javascript:alert(1)"
    with pytest.raises(ValidationError):
        services.article_publish(article=article, by=make_staff(Role.MANAGER, totp=False))


def test_a_comment_reaches_the_author_a_bare_vote_only_counts(make_article):
    article = make_article()
    reader = UserFactory(role=Role.CUSTOMER_USER, language="nl")
    services.article_feedback(article=article, by=reader, helpful=True)
    assert not Notification.objects.filter(recipient=article.author).exists()
    services.article_feedback(article=article, by=reader, helpful=False, comment="Step 2 is unclear.")
    mail = Notification.objects.get(recipient=article.author, topic=NotificationTopic.KNOWLEDGE)
    assert mail.subject.startswith("Not helpful") and "Step 2 is unclear." in mail.body
    assert article.feedback.count() == 2


def test_a_comment_over_the_limit_is_refused_and_nothing_saved(make_article):
    article = make_article()
    with pytest.raises(ValidationError):
        services.article_feedback(article=article, by=UserFactory(), helpful=True, comment="x" * 1001)
    assert article.feedback.count() == 0


def test_a_deflection_is_counted_and_registers_no_ticket(make_article):
    article = make_article()
    coordinator = UserFactory(role=Role.COORDINATOR)
    services.deflection_record(article=article, by=coordinator, title_typed="Printer geeft lege pagina's")
    deflection = Deflection.objects.get()
    assert deflection.organisation == coordinator.organisation and deflection.article == article
    assert deflection.title_typed == "Printer geeft lege pagina's"
    assert Ticket.objects.count() == 0


def test_a_draft_prevents_nothing(make_article):
    article = make_article(status=ArticleStatus.DRAFT)
    with pytest.raises(ValidationError):
        services.deflection_record(article=article, by=UserFactory(role=Role.COORDINATOR))
    assert Deflection.objects.count() == 0


def test_a_reply_linking_an_article_cites_it_once(make_article, agent, settings):
    from tickets import services as ticket_services
    from tickets.tests.factories import coordinator_on, register

    article, other = make_article(), make_article(title="Other")
    ticket = register(coordinator_on("extended"))
    body = f"See [{article.title}]({settings.SITE_URL}/kb/{article.slug}/) and /kb/no-such-article/."
    message = ticket_services.message_reply_public(ticket=ticket, by=agent, body=body)
    message.save()  # saved again: still one citation
    citation = Citation.objects.get()
    assert (citation.article, citation.ticket, citation.message) == (article, ticket, message)
    assert not Citation.objects.filter(article=other).exists()
