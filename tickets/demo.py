"""Demo tickets, so a first look at the portal, the desk and the dashboard shows the SLA at
work: a breached deadline, one at risk, a ticket waiting on the customer, a change awaiting
approval and a resolved incident. Created through the same services as real ones."""

from datetime import timedelta

from django.utils import timezone

from accounts.models import Organisation, User
from tickets import services
from tickets.models import Macro, MailDraft, Product, Ticket


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
    if not Ticket.objects.filter(organisation=default).exists():
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
    if not Ticket.objects.filter(organisation=extended).exists():
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
