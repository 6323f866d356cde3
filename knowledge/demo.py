"""Demo articles for `manage.py seed_demo`: a public one in both languages, one for customers
(with an earlier revision) and a draft waiting for review. Created once."""

from accounts.models import User
from knowledge import services
from knowledge.models import Article

_CERTIFICATE_NL = """Werkt de koppeling met uw eigen systemen niet meer sinds vanochtend? Vaak is het
certificaat verlopen.

1. Open **Beheer → Koppelingen**.
2. Kies de koppeling en **Certificaat vernieuwen**.
3. Test de koppeling.

Lukt het niet, registreer dan een melding met de foutmelding erbij."""

_CERTIFICATE_EN = """Has the connection to your own systems stopped working since this morning? The
certificate has often expired.

1. Open **Settings → Connections**.
2. Choose the connection and **Renew certificate**.
3. Test the connection.

If that does not help, register a ticket with the error message."""


def demo_articles_create(*, agent: User, manager: User) -> int:
    if Article.objects.exists():
        return 0
    common = {"by": agent, "visibility": "public"}
    dutch = services.article_create(
        title="Koppeling werkt niet meer: certificaat verlopen",
        body_markdown=_CERTIFICATE_NL,
        language="nl",
        **common,
    )
    english = services.article_create(
        title="Connection stopped working: certificate expired",
        body_markdown=_CERTIFICATE_EN,
        language="en",
        translation_of=dutch,
        **common,
    )
    export = services.article_create(
        by=agent,
        title="Exports blijven leeg",
        body_markdown="Controleer het filter van de export.",
        language="nl",
        visibility="customers",
    )
    services.article_update(
        article=export,
        by=agent,
        title="Exports blijven leeg",
        body_markdown="Controleer het **datumfilter** van de export: op vandaag blijft de export leeg.",
        language="nl",
        visibility="customers",
    )
    for article in (dutch, english, export):
        services.article_submit(article=article, by=agent)
        services.article_publish(article=article, by=manager)
    services.article_create(
        by=agent,
        title="Wachtwoord opnieuw instellen",
        body_markdown="Kies op de inlogpagina **Wachtwoord vergeten?**.",
        language="nl",
        visibility="public",
    )
    return 4
