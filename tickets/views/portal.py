"""The customers' self-service portal: register, follow, answer, confirm or reopen."""

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts import services as account_services
from accounts.models import SUBSCRIBABLE_TOPICS, Role, Subscription
from accounts.permissions import customer_required
from accounts.tenancy import get_for_user_or_404
from sla import selectors as sla_selectors
from tickets import selectors, services
from tickets.caching import (
    cached_list_page,
    hours_left_key,
    mail_drafts_key,
    mail_drafts_load,
    mail_drafts_pending,
)
from tickets.choices import MailDraftStatus
from tickets.forms import (
    ConfirmForm,
    ConsultancyRequestForm,
    CustomerMessageForm,
    MailDraftRegisterForm,
    PortalFilterForm,
    PreferencesForm,
    ReasonForm,
    ReprioritiseForm,
    SatisfactionForm,
    TicketRegisterForm,
)
from tickets.models import ConsultancyRequest, MailDraft, Message, Product, SatisfactionRating, Ticket
from tickets.services.satisfaction import portal_asks
from tickets.views.common import Action, apply_errors, run_action


@customer_required
def home(request):
    """My organisation's tickets: status, priority and the state of each SLA clock."""
    form = PortalFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    tickets = selectors.ticket_list_for_customer(
        user=request.user,
        status=filters.get("status", ""),
        kind=filters.get("kind", ""),
        q=filters.get("q", ""),
    )
    organisation = request.user.organisation
    hours_left = (
        hours_left_key(organisation.pk),
        lambda: selectors.hours_balance(organisation_id=organisation.pk),
    )
    extras = {"hours_left": hours_left}
    coordinator = request.user.role == Role.COORDINATOR
    if coordinator:  # the navigation's count, in the same cache round trip
        extras["mail_drafts"] = (mail_drafts_key(organisation.pk), lambda: mail_drafts_load(organisation.pk))
    listing = cached_list_page(
        request,
        tickets,
        row_template="tickets/_portal_row.html",
        filter_form=form,
        filter_template="tickets/_portal_filters.html",
        extras=extras,
    )
    more = {}
    if coordinator:
        cached = listing.extras["mail_drafts"]
        more["mail_drafts_pending"] = mail_drafts_pending(organisation.pk, cached=cached)
    return render(
        request,
        "tickets/portal_list.html",
        {
            "organisation": organisation,
            "filters": listing.filters,
            "page": listing.page,
            "rows": listing.rows,
            "may_register": request.user.role == Role.COORDINATOR,
            "hours_left": listing.extras["hours_left"],
            **more,
        },
    )


def _register_data(data: dict) -> dict:
    fields = (
        "kind",
        "title",
        "description",
        "product",
        "module",
        "hosting",
        "nature",
        "urgency",
        "suggested_impact",
        "change_type",
    )
    return {name: data[name] for name in fields}


def _register_page(request, template: str, form, status: int, **context):
    """The registration form's page (a new ticket, or a mail draft): the level and what support
    does not cover, said at the door."""
    products = Product.objects.filter(active=True)
    level = (
        contract.service_level
        if (
            contract := sla_selectors.contract_in_force(
                organisation_id=request.user.organisation_id, on=_today()
            )
        )
        else None
    )
    coverage = {
        "consultancy_products": [p.pk for p in products if p.consultancy_for_functional],
        "data": str(_("Data problems are not covered by support: ask for consultancy instead.")),
        "functional": str(_("Functional questions about this product are consultancy, not support.")),
        "modules": {str(m.pk): m.product_id for m in form.fields["module"].queryset},
    }
    return render(
        request,
        template,
        {
            "form": form,
            "level": level,
            "coverage_messages": coverage,
            "consultancy_products": [p for p in products if p.consultancy_for_functional],
            "max_bytes": settings.TICKETS_ATTACHMENT_MAX_BYTES,
            "extensions": ", ".join(settings.TICKETS_ATTACHMENT_EXTENSIONS),
            **context,
        },
        status=status,
    )


@customer_required
def register(request):
    if request.user.role != Role.COORDINATOR:
        raise PermissionDenied(_("Only your organisation's coordinators may register tickets."))
    form = TicketRegisterForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            ticket = services.ticket_register(
                by=request.user, **_register_data(data), attachments=data["attachments"]
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            return redirect("portal:registered", pk=ticket.pk)
    return _register_page(
        request, "tickets/portal_register.html", form, 400 if request.method == "POST" else 200
    )


# --- mail drafts (SPEC §1) -------------------------------------------------------------------


def _coordinator(request) -> None:
    if request.user.role != Role.COORDINATOR:
        raise PermissionDenied(_("Only your organisation's coordinators handle mail drafts."))


@customer_required
def drafts(request):
    """The organisation's mails waiting to be registered, and the last ones decided."""
    _coordinator(request)
    listed = selectors.mail_draft_list(user=request.user)
    pending = list(listed.filter(status=MailDraftStatus.PENDING)[:100])
    decided = list(listed.exclude(status=MailDraftStatus.PENDING)[:20])
    return render(
        request,
        "tickets/portal_drafts.html",
        {"pending": pending, "decided": decided, "mail_drafts_pending": len(pending)},
    )


@customer_required
def draft(request, pk: int):
    """One mail draft and the registration form prefilled from it; posting registers it."""
    _coordinator(request)
    found = get_for_user_or_404(
        MailDraft.objects.select_related("sender", "ticket", "decided_by").prefetch_related("files"),
        request.user,
        pk=pk,
    )
    form = MailDraftRegisterForm(request.POST or None, draft=found)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                ticket = services.mail_draft_register(
                    draft=found, by=request.user, **_register_data(form.cleaned_data)
                )
            except ValidationError as exc:
                apply_errors(form, exc)
                status = 409 if getattr(exc, "code", None) == "draft_decided" else 400
                found.refresh_from_db()
            else:
                return redirect("portal:registered", pk=ticket.pk)
    return _register_page(request, "tickets/portal_draft.html", form, status, draft=found)


@customer_required
def draft_discard(request, pk: int):
    _coordinator(request)
    found = get_for_user_or_404(MailDraft.objects.all(), request.user, pk=pk)
    if request.method == "POST":
        try:
            services.mail_draft_discard(draft=found, by=request.user)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("The mail draft was discarded; no ticket was registered."))
    return redirect("portal:drafts")


def _today():
    from django.utils import timezone

    return timezone.localdate()


@customer_required
def registered(request, pk: int):
    ticket = get_for_user_or_404(selectors.ticket_for_detail(Ticket.objects.all()), request.user, pk=pk)
    return render(
        request,
        "tickets/portal_registered.html",
        {"ticket": ticket, "clocks": selectors.clock_statuses(ticket)},
    )


PORTAL_ACTIONS = {
    "message": Action(
        CustomerMessageForm,
        lambda t, u, d, v: services.message_customer(
            ticket=t, by=u, body=d["body"], attachments=d["attachments"]
        ),
        _("Your message was sent."),
    ),
    "reprioritise": Action(
        ReprioritiseForm,
        lambda t, u, d, v: services.reprioritisation_request(
            ticket=t, by=u, priority=d["priority"], reason=d["reason"]
        ),
        _("Your request was sent; support decides and will let you know."),
    ),
    "confirm": Action(
        ConfirmForm,
        lambda t, u, d, v: services.ticket_confirm(ticket=t, by=u, expected_version=v),
        _("Thank you: the ticket is closed."),
    ),
    "reopen": Action(
        ReasonForm,
        lambda t, u, d, v: services.ticket_reopen(ticket=t, by=u, reason=d["reason"], expected_version=v),
        _("The ticket is open again."),
    ),
    "rate": Action(
        SatisfactionForm,
        lambda t, u, d, v: _rate(t, u, d),
        _("Thank you for your rating."),
    ),
}


def _rate(ticket: Ticket, user, data: dict) -> None:
    try:
        services.satisfaction_rate(ticket=ticket, by=user, score=data["score"], comment=data["comment"])
    except services.AlreadyRated as exc:
        raise ValidationError(str(exc), code="invalid_transition") from exc


def _detail_ticket(request, pk: int) -> Ticket:
    return get_for_user_or_404(selectors.ticket_for_detail(Ticket.objects.all()), request.user, pk=pk)


def render_detail(request, ticket: Ticket, *, bound=None, status=200):
    user = request.user
    allowed = selectors.ticket_actions(ticket, user, raci=selectors.raci_table())
    forms = {
        name: (bound or {}).get(name) or action.form(ticket=ticket, auto_id=f"id_{name}_%s")
        for name, action in PORTAL_ACTIONS.items()
        if name in allowed
    }
    rating = SatisfactionRating.objects.filter(ticket=ticket).first()
    if portal_asks(ticket, rating=rating):
        forms["rate"] = (bound or {}).get("rate") or SatisfactionForm(ticket=ticket, auto_id="id_rate_%s")
    conversation = (
        Message.objects.visible_to(user)
        .filter(ticket=ticket)
        .select_related("author")
        .prefetch_related("attachments")
    )
    return render(
        request,
        "tickets/portal_detail.html",
        {
            "ticket": ticket,
            "clocks": selectors.clock_statuses(ticket),
            "forms": forms,
            "conversation": conversation,
            "registration_files": ticket.attachments.filter(message__isnull=True),
            "bugs": ticket.bugs.all(),
            "reprioritisations": ticket.reprioritisations.all(),
            "reopen_until": services.reopen_deadline(ticket),
            "rating": rating,
            "steps": selectors.raci_matrix(),
        },
        status=status,
    )


@customer_required
def detail(request, pk: int):
    return render_detail(request, _detail_ticket(request, pk))


@customer_required
def action(request, pk: int, name: str):
    if request.method != "POST":
        return redirect("portal:detail", pk=pk)
    ticket = _detail_ticket(request, pk)
    return run_action(
        request,
        ticket=ticket,
        name=name,
        actions=PORTAL_ACTIONS,
        render_detail=render_detail,
        success_url=reverse("portal:detail", args=[ticket.pk]),
    )


@customer_required
def preferences(request):
    """SPEC §11: which topics a contact receives (and ticket updates)."""
    current = set(Subscription.objects.filter(user=request.user).values_list("topic", flat=True))
    form = PreferencesForm(
        request.POST or None,
        user=request.user,
        initial={"topics": sorted(current), "notification_digest": request.user.notification_digest},
    )
    if request.method == "POST" and form.is_valid():
        account_services.notification_preferences_set(
            user=request.user,
            topics=set(form.cleaned_data["topics"]),
            digest=form.cleaned_data["notification_digest"],
        )
        messages.success(request, _("Your preferences were saved."))
        return redirect("portal:preferences")
    return render(request, "tickets/portal_preferences.html", {"form": form, "topics": SUBSCRIBABLE_TOPICS})


@customer_required
def consultancy(request):
    """SPEC §7 for customers: the organisation's hours cards with their balance and bookings,
    and (coordinators) a request for a consultant, the lead time checked as the desk checks it."""
    coordinator = request.user.role == Role.COORDINATOR
    form = ConsultancyRequestForm(request.POST or None) if coordinator else None
    if request.method == "POST":
        if not coordinator:
            raise PermissionDenied(_("Only your organisation's coordinators ask for a consultant."))
        if form.is_valid():
            try:
                services.consultancy_request(by=request.user, **form.cleaned_data)
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, _("Your request for a consultant was sent to support."))
                return redirect("portal:consultancy")
    organisation = request.user.organisation
    contract = sla_selectors.contract_in_force(organisation_id=organisation.pk, on=timezone.localdate())
    return render(
        request,
        "tickets/portal_consultancy.html",
        {
            "cards": selectors.hours_cards_for_customer(user=request.user),
            "balance": selectors.hours_balance(organisation_id=organisation.pk),
            "requests": ConsultancyRequest.objects.for_user(request.user).select_related("requested_by")[:50],
            "form": form,
            "lead_days": services.level_lead_days(contract.service_level_id) if contract else None,
        },
    )
