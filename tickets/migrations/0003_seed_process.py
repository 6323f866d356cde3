"""Seed the product catalogue (SPEC §6) and the RACI table (SPEC §5); fill the queue's
deadline columns of tickets that existed before them."""

from django.db import migrations


def seed(apps, schema_editor):
    from tickets import seed as data

    Product = apps.get_model("tickets", "Product")
    Module = apps.get_model("tickets", "Module")
    RaciRule = apps.get_model("tickets", "RaciRule")
    for position, (code, name, functional_consultancy, active, modules) in enumerate(data.PRODUCTS):
        product = Product.objects.create(code=code, name=name, position=position, active=active,
                                         consultancy_for_functional=functional_consultancy)
        Module.objects.bulk_create(Module(product=product, code=m_code, name=m_name, position=i)
                                   for i, (m_code, m_name) in enumerate(modules))
    RaciRule.objects.bulk_create(RaciRule(step=step, role=role, letter=letter)
                                 for step, role, letter in data.raci_rows())

    Ticket = apps.get_model("tickets", "Ticket")
    Clock = apps.get_model("sla", "Clock")
    for ticket in Ticket.objects.filter(status__in=["new", "open", "waiting_on_customer"]).iterator():
        clock = (Clock.objects.filter(ticket=ticket, state="running", due_at__isnull=False)
                 .order_by("due_at").first())
        if clock:
            Ticket.objects.filter(pk=ticket.pk).update(due_at=clock.due_at, at_risk_at=clock.at_risk_at)


class Migration(migrations.Migration):
    dependencies = [("tickets", "0002_process"), ("sla", "0003_seed_sla")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
