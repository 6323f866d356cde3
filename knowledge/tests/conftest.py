import pytest

from knowledge import services
from knowledge.models import Article, ArticleStatus


@pytest.fixture
def make_article(db, make_staff):
    """An article by one agent, published by one manager unless told otherwise (users are
    made once per test: hashing their passwords is most of the cost)."""
    made = {}

    def staff(role):
        if role not in made:
            made[role] = make_staff(role, totp=False)
        return made[role]

    def make(
        title="Printer prints blank pages",
        body="Switch the printer off and on, then print a test page.",
        *,
        language="en",
        visibility="customers",
        status=ArticleStatus.PUBLISHED,
        author=None,
        product=None,
    ) -> Article:
        author = author or staff("agent")
        article = services.article_create(
            by=author,
            title=title,
            body_markdown=body,
            language=language,
            visibility=visibility,
            product=product,
        )
        if status in (ArticleStatus.IN_REVIEW, ArticleStatus.PUBLISHED):
            services.article_submit(article=article, by=author)
        if status == ArticleStatus.PUBLISHED:
            services.article_publish(article=article, by=staff("manager"))
        article.refresh_from_db()
        return article

    return make
