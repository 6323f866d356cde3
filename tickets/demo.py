"""Demo tickets, so a first look at the portal, the desk and the dashboard shows the SLA at
work: a breached deadline, one at risk, a ticket waiting on the customer, a change awaiting
approval and a resolved incident - and 26 weeks of history before them (registered, answered,
resolved, confirmed or closed by themselves, and rated), so the dashboard's trend charts and
the satisfaction page have something to show on a first run. Created through the same
services as real ones, at the instants they happened."""

import random
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, time, timedelta

from django.conf import settings
from django.db.models import F, Max
from django.utils import timezone

from accounts.models import Notification, Organisation, Role, User
from tickets import services
from tickets.models import Macro, MailDraft, Product, Ticket
from tickets.services.satisfaction import AMSTERDAM

HISTORY_WEEKS = 26


def demo_tickets_create(*, organisations: dict[str, Organisation], agent: User) -> int:
    """Once per organisation: an organisation that has tickets is left alone."""
    now = timezone.now()
    saas = Product.objects.get(code="qixium-saas")
    created = 0

    def create(organisation, title, *, kind="incident", urgency=2, impact=2, hours_ago=1.0, **fields):
        return services.ticket_create(
            organisation=organisation,
            by=None,
            kind=kind,
            title=title,
            urgency=urgency,
            impact=impact,
            product=saas,
            registered_at=now - timedelta(hours=hours_ago),
            **fields,
        )

    default, extended = organisations["default"], organisations["extended"]
    fresh = [org for org in (default, extended) if not Ticket.objects.filter(organisation=org).exists()]
    if fresh:
        created += demo_history_create(organisations=fresh, agent=agent, now=now)
    if default in fresh:
        create(
            default,
            "Inloggen mislukt voor alle medewerkers",
            urgency=1,
            impact=1,
            hours_ago=50,
            description="Sinds maandagochtend krijgt iedereen 'Access denied'.",
        )
        create(
            default,
            "Rapportage toont verkeerde totalen",
            hours_ago=2,
            description="Het maandtotaal in de IDU-rapportage klopt niet met de export.",
        )
        question = create(
            default,
            "Hoe exporteer ik een overzicht naar CSV?",
            kind="information_request",
            urgency=3,
            impact=3,
            hours_ago=20,
        )
        services.ticket_classify(
            ticket=question, by=agent, clarity="unclear", question="Om welk overzicht gaat het precies?"
        )
        created += 3
    if extended in fresh:
        urgent = create(extended, "Koppeling met de ESB stopt 's nachts", urgency=1, impact=2, hours_ago=1.6)
        services.ticket_assign(ticket=urgent, by=agent, assignee=agent)
        create(
            extended,
            "Nieuwe koppeling voor het roostersysteem",
            kind="change",
            change_type="normal",
            urgency=3,
            impact=3,
            hours_ago=5,
        )
        solved = create(extended, "Certificaat van de DataLink verlopen", urgency=2, impact=1, hours_ago=30)
        services.message_reply_public(ticket=solved, by=agent, body="We vernieuwen het certificaat vandaag.")
        services.ticket_classify(ticket=solved, by=agent, clarity="clear")
        services.ticket_resolve(ticket=solved, by=agent, resolution="Certificaat vernieuwd; koppeling werkt.")
        created += 3
    sender = User.objects.filter(organisation=extended, is_active=True).order_by("pk").first()
    if sender is not None and not MailDraft.objects.filter(organisation=extended).exists():
        # A mail waiting in the portal (SPEC §1): the coordinator registers it, the clocks start then.
        services.mail_draft_create(
            sender=sender,
            subject="Rapportage laadt traag sinds de update",
            body="Sinds de update van gisteren duurt het openen van de weekrapportage ruim een minuut.",
            files=[],
            mail_message_id=None,
            received_at=now - timedelta(minutes=40),
        )
    if not Macro.objects.exists():
        # A shared canned reply for the desk's reply box (its agent owns it, managers edit it).
        Macro.objects.create(
            owner=agent,
            shared=True,
            title="Ontvangen en in behandeling",
            body_nl="Beste {customer_name},\n\nWij hebben {ticket_number} in behandeling en reageren "
            "uiterlijk {response_deadline}.",
            body_en="Dear {customer_name},\n\nWe are working on {ticket_number} and will respond by "
            "{response_deadline} at the latest.",
        )
    return created


# --- 26 weeks of history ------------------------------------------------------------------------


class _Clock:
    now: datetime


@contextmanager
def services_clock() -> Iterator[_Clock]:
    """Let the services run at past instants: they (and ``localdate()``, and ``auto_now``
    columns) all read ``django.utils.timezone.now``, so it is swapped for this clock's
    instant while the block runs, and put back after. Process-wide, hence for a
    single-threaded command only (``seed_demo``, before web and workers start); never in a
    request or a task. ``time_machine`` does the same in tests but is a dev dependency."""
    clock = _Clock()
    clock.now = timezone.now()
    original = timezone.now
    timezone.now = lambda: clock.now
    try:
        yield clock
    finally:
        timezone.now = original


RESOLUTIONS = [  # title, what the customer wrote, how support resolved it
    (
        "Rapport exporteert lege regels",
        "De export van het maandrapport bevat sinds gisteren alleen lege regels.",
        "De filterinstelling is hersteld; de export is weer volledig.",
    ),
    (
        "Koppeling geeft time-outs",
        "De koppeling met ons roostersysteem geeft sinds vanochtend steeds een time-out.",
        "De time-out van de koppeling is verhoogd en de wachtrij opgeschoond.",
    ),
    (
        "Gebruiker kan niet inloggen",
        "Een collega krijgt 'Ongeldige inlog', terwijl het wachtwoord net is hersteld.",
        "Het account was geblokkeerd na te veel pogingen; het is vrijgegeven.",
    ),
    (
        "Dashboard laadt traag",
        "Het dashboard doet er meer dan een minuut over om te laden.",
        "Een ontbrekende index is toegevoegd; het dashboard laadt in 2 seconden.",
    ),
    (
        "Melding over verlopen certificaat",
        "Onze browsers waarschuwen dat het certificaat van de omgeving verloopt.",
        "Het certificaat is vernieuwd.",
    ),
    (
        "Vraag over rechten per rol",
        "Hoe geven we teamleiders wel inzage in rapporten, maar geen beheerrechten?",
        "Uitgelegd hoe rechten per rol worden ingesteld, met handleiding.",
    ),
    (
        "Import stopt bij regel 500",
        "De import van het klantenbestand stopt steeds bij regel 500, zonder foutmelding.",
        "Een ongeldig datumveld blokkeerde de import; de validatie is aangepast.",
    ),
    (
        "Workflow blijft hangen",
        "Aanvragen blijven in de stap 'Goedkeuren' staan en gaan niet verder.",
        "De workflow-engine is herstart en de oorzaak (geheugenlek) verholpen.",
    ),
]
COMMENTS = {
    1: "Veel te lang gewacht zonder bericht.",
    2: "De oplossing werkt, maar het duurde lang.",
    3: "",
    4: "Goed geholpen.",
    5: "Snel en duidelijk, dank!",
}


def demo_history_create(*, organisations: list[Organisation], agent: User, now: datetime) -> int:
    """A few tickets a week per organisation over the last HISTORY_WEEKS weeks, each through
    the services at the instants it happened: registered, answered (now and then late),
    resolved (now and then after its deadline), then confirmed and rated in the portal, or
    left to close by itself and rated through the mailed link. The same seed gives the same
    history. Mails of the past are marked sent: nobody should receive them today."""
    rng = random.Random(17)  # noqa: S311 - demo data, not security
    products = list(Product.objects.filter(code__in=["qixium-saas", "data-manager"]).order_by("position"))
    manager = User.objects.filter(role=Role.MANAGER, is_active=True).order_by("pk").first()
    resolvers = [agent, agent, manager or agent]
    last_notification = Notification.objects.aggregate(last=Max("pk"))["last"] or 0
    latest = now - timedelta(hours=1)
    created = 0
    today = timezone.localtime(now, AMSTERDAM).date()
    this_monday = today - timedelta(days=today.weekday())
    with services_clock() as clock:
        for organisation in organisations:
            coordinator = (
                User.objects.filter(organisation=organisation, role=Role.COORDINATOR, is_active=True)
                .order_by("pk")
                .first()
            )
            if coordinator is None:
                continue
            for weeks_back in range(HISTORY_WEEKS - 1, -1, -1):
                monday = this_monday - timedelta(weeks=weeks_back)
                for _n in range(rng.choice([1, 2, 2])):
                    day = monday + timedelta(days=rng.randrange(5))
                    registered = datetime.combine(
                        day, time(rng.randrange(9, 15), rng.randrange(60)), AMSTERDAM
                    )
                    if registered > latest - timedelta(days=2):
                        continue
                    _history_ticket(
                        rng,
                        clock,
                        organisation=organisation,
                        coordinator=coordinator,
                        resolver=rng.choice(resolvers),
                        product=rng.choice(products),
                        registered=registered,
                        latest=latest,
                    )
                    created += 1
    Notification.objects.filter(pk__gt=last_notification).update(
        sent_at=F("created_at"), next_attempt_at=None
    )
    return created


def _history_ticket(rng, clock, *, organisation, coordinator, resolver, product, registered, latest):
    late = rng.random() < 0.18  # a late answer or resolution: the SLA breached now and then
    title, description, resolution = rng.choice(RESOLUTIONS)
    clock.now = registered
    ticket = services.ticket_create(
        organisation=organisation,
        by=coordinator,
        kind=rng.choice(["incident", "incident", "information_request", "service_request"]),
        title=title,
        urgency=rng.choice([1, 2, 2, 3]),
        impact=rng.choice([1, 2, 3, 3]),
        product=product,
        registered_at=registered,
        description=description,
    )
    clock.now = registered + timedelta(
        minutes=rng.randrange(10, 90) + (rng.randrange(1, 3) * 1440 if late else 0)
    )
    # Nobody is assigned (it would cost the seed a service call a ticket): the satisfaction
    # page counts a ticket for whoever wrote its resolution then.
    services.message_reply_public(ticket=ticket, by=resolver, body="We hebben uw melding in behandeling.")
    services.ticket_classify(ticket=ticket, by=resolver, clarity="clear")
    clock.now += timedelta(hours=rng.randrange(2, 30) + (rng.randrange(5, 15) * 24 if late else 0))
    if clock.now > latest:
        return
    services.ticket_resolve(ticket=ticket, by=resolver, resolution=resolution)
    resolved_at = clock.now
    score = rng.choice([1, 2, 3, 3, 4] if late else [3, 4, 4, 5, 5, 5])
    if rng.random() < 0.8:
        clock.now = resolved_at + timedelta(hours=rng.randrange(1, 48))
        if clock.now > latest:
            return
        services.ticket_confirm(ticket=ticket, by=coordinator)
        clock.now += timedelta(minutes=1)
        services.satisfaction_rate(ticket=ticket, by=coordinator, score=score, comment=COMMENTS[score])
        return
    # Not reacted to: it closes by itself after the reopen period, and the closing mail's link
    # is answered a day later (or not at all).
    clock.now = resolved_at + timedelta(days=settings.SLA_REOPEN_DAYS, hours=1)
    if clock.now > latest:
        return
    services.tickets_close_unconfirmed(now=clock.now)
    clock.now += timedelta(days=1)
    if rng.random() < 0.7 and clock.now <= latest:
        services.satisfaction_rate(ticket=ticket, score=score, comment=COMMENTS[score], via_link=True)
