"""Demo data: two organisations, one user per role and a few tickets. Safe to run again."""

from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP
from django.core.management.base import BaseCommand
from django.db import transaction

from accounts.models import Organisation, Role, User

DEMO_PASSWORD = "demo-password-2026"  # noqa: S105 - printed for the demo, never used in production
# Fixed TOTP secrets so an authenticator app (or `manage.py totp_code`) can be set up once.
DEMO_TOTP_SECRETS = {
    Role.AGENT: "JBSWY3DPEHPK3PXPAGENT234",
    Role.CONSULTANT: "JBSWY3DPEHPK3PXPCONSULT2",
    Role.MANAGER: "JBSWY3DPEHPK3PXPMANAGER2",
    Role.ADMIN: "JBSWY3DPEHPK3PXPADMIN234",
}
DEMO_ORGANISATIONS = {"default": "Gemeente Voorbeeld", "extended": "Zorggroep Extra"}
DEMO_USERS = [
    ("coordinator@voorbeeld.example", "Carla Coördinator", Role.COORDINATOR, "default"),
    ("user@voorbeeld.example", "Udo Gebruiker", Role.CUSTOMER_USER, "default"),
    ("coordinator@extra.example", "Eva Extra", Role.COORDINATOR, "extended"),
    ("agent@sla-portal.example", "Sam Support", Role.AGENT, None),
    ("consultant@sla-portal.example", "Cas Consultant", Role.CONSULTANT, None),
    ("manager@sla-portal.example", "Mira Manager", Role.MANAGER, None),
    ("admin@sla-portal.example", "Ada Admin", Role.ADMIN, None),
]


class Command(BaseCommand):
    help = "Create demo organisations and one user per role (idempotent) and print the logins."

    @transaction.atomic
    def handle(self, *args, **options):
        organisations = {
            key: Organisation.objects.get_or_create(name=name)[0] for key, name in DEMO_ORGANISATIONS.items()
        }
        self.seed_service_levels(organisations)
        rows = []
        for email, name, role, org_key in DEMO_USERS:
            user = User.objects.filter(email=email).first()
            if user is None:
                user = User.objects.create_user(
                    email,
                    DEMO_PASSWORD,
                    full_name=name,
                    role=role,
                    organisation=organisations[org_key] if org_key else None,
                    is_staff=role in (Role.MANAGER, Role.ADMIN),
                    is_superuser=role == Role.ADMIN,
                )
            secret = DEMO_TOTP_SECRETS.get(role)
            if secret and not Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists():
                TOTP.activate(user, secret)
            rows.append((email, role.label, user.organisation or "-", secret or "-"))
        self.seed_tickets(organisations)
        self.seed_articles()
        self.stdout.write(f"Demo users (password for all: {DEMO_PASSWORD})")
        for email, role, organisation, secret in rows:
            self.stdout.write(f"  {email:32} {role!s:22} {organisation!s:22} TOTP secret: {secret}")
        self.stdout.write("Staff log in with a TOTP code: `python manage.py totp_code EMAIL` prints one.")

    def seed_tickets(self, organisations: dict[str, Organisation]) -> None:
        from tickets.demo import demo_tickets_create

        agent = User.objects.get(email="agent@sla-portal.example")
        if created := demo_tickets_create(organisations=organisations, agent=agent):
            self.stdout.write(f"Created {created} demo tickets.")

    def seed_articles(self) -> None:
        from knowledge.demo import demo_articles_create

        agent = User.objects.get(email="agent@sla-portal.example")
        manager = User.objects.get(email="manager@sla-portal.example")
        if created := demo_articles_create(agent=agent, manager=manager):
            self.stdout.write(f"Created {created} demo knowledge base articles.")

    def seed_service_levels(self, organisations: dict[str, Organisation]) -> None:
        """Give each demo organisation a contract once the SLA engine provides them."""
        from sla.services import contract_ensure_for_demo

        contract_ensure_for_demo(organisations=organisations)
