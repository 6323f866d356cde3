"""The set-up a support manager keeps (issue 15): organisations and their contracts, products
and modules, the RACI table, prepaid hours cards and the maintenance windows.

Every write here validates (a ValidationError names the field), locks what it checks against,
never rewrites the past, and is written to the admin's own log (``LogEntry``), the audit
trail a superuser already reads in the admin ("History"): one trail, whichever door was used.
"""

import hashlib
import logging
from dataclasses import dataclass
from datetime import date, time, timedelta
from decimal import Decimal
from zoneinfo import available_timezones

from django.contrib.admin.models import ADDITION, CHANGE, DELETION, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import IntegerField, Max, OuterRef, Q, QuerySet, Subquery, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Organisation, User
from accounts.services import organisation_mfa_required_set
from sla.models import Contract, MaintenanceWindow, ServiceLevel, Weekday
from sla_portal.formatting import date_text
from sla_portal.forms import EARLIEST_DATE, LATEST_DATE
from tickets.choices import ProcessStep, RaciLetter, RaciRole
from tickets.models import HoursBooking, HoursCard, Module, Product, RaciRule, Ticket

logger = logging.getLogger(__name__)

# A card of more hours than this is three years of a full-time consultant: a typo.
MAX_CARD_HOURS = Decimal(5000)
MIN_CARD_HOURS = Decimal("0.25")  # a quarter of an hour is the smallest booking people make
MAX_CARD_YEARS = 10  # a card valid longer than this is a typo too


# --- the audit trail -------------------------------------------------------------------------


def audit(*, by: User, obj, action: int, message: str) -> None:
    """One line in the admin's log: who changed what, when, and how (in words)."""
    LogEntry.objects.create(
        user_id=by.pk,
        content_type=ContentType.objects.get_for_model(obj, for_concrete_model=False),
        object_id=str(obj.pk),
        object_repr=str(obj)[:200],
        action_flag=action,
        change_message=message[:1000],
    )
    logger.info("set-up by %s: %s %s: %s", by.pk, type(obj).__name__, obj.pk, message)


SETUP_MODELS = (Organisation, Contract, Product, Module, RaciRule, HoursCard, MaintenanceWindow)


def audit_recent(*, limit: int = 20) -> QuerySet[LogEntry]:
    """The latest changes to the set-up, from the manager pages and the admin alike."""
    types = ContentType.objects.get_for_models(*SETUP_MODELS).values()
    return (
        LogEntry.objects.filter(content_type__in=list(types))
        .select_related("user", "content_type")
        .order_by("-action_time")[:limit]
    )


def _changes(old: dict, new: dict) -> str:
    return "; ".join(
        f"{key}: {old.get(key)} → {value}" for key, value in new.items() if old.get(key) != value
    )


# --- organisations ------------------------------------------------------------------------------


class AggregateOf(Subquery):
    """``(SELECT COUNT(column) FROM (<correlated subquery>))``: an aggregate per outer row
    without the GROUP BY over the whole outer query that the ORM's ``Count`` adds, so
    PostgreSQL computes it for the rows of the page only."""

    template = "(SELECT %(function)s(%(column)s) FROM (%(subquery)s) AS aggregated)"

    def __init__(self, queryset, *, function: str, column: str, output_field):
        super().__init__(
            queryset.order_by().values(column), output_field=output_field, function=function, column=column
        )


def organisation_list(*, search: str = "") -> QuerySet[Organisation]:
    """Each organisation with its level today and its active users: correlated subqueries,
    computed for the rows of a page only (``organisation_hours_left`` adds the hours)."""
    today = timezone.localdate()
    in_force = (
        Contract.objects.filter(organisation=OuterRef("pk"), valid_from__lte=today)
        .exclude(valid_until__lt=today)
        .order_by("-valid_from")
    )
    users = AggregateOf(
        User.objects.filter(organisation=OuterRef("pk"), is_active=True),
        function="COUNT",
        column="pk",
        output_field=IntegerField(),
    )
    organisations = Organisation.objects.annotate(
        level_name=Subquery(in_force.values("service_level__name")[:1]),
        level_since=Subquery(in_force.values("valid_from")[:1]),
        user_count=users,
    ).order_by("name")
    search = (search or "").strip()[:100]
    return organisations.filter(name__icontains=search) if search else organisations


def organisation_hours_left(organisations: list[Organisation]) -> None:
    """Sets ``hours_left`` (on the cards valid today) on each: two grouped queries for a page.
    As a correlated subquery per organisation PostgreSQL scanned every booking once per row
    (4 s for 25 organisations and 100,000 bookings: bench/setup_pages.py); grouped, once."""
    today = timezone.localdate()
    ids = [organisation.pk for organisation in organisations]
    valid = Q(valid_until__isnull=True) | Q(valid_until__gte=today)
    bought = dict(
        HoursCard.objects.filter(valid, organisation__in=ids)
        .order_by()
        .values("organisation")
        .annotate(total=Sum("hours"))
        .values_list("organisation", "total")
    )
    used = dict(
        HoursBooking.objects.filter(Q(card__valid_until__isnull=True) | Q(card__valid_until__gte=today))
        .filter(card__organisation__in=ids)
        .order_by()
        .values("card__organisation")
        .annotate(total=Sum("hours"))
        .values_list("card__organisation", "total")
    )
    for organisation in organisations:
        left = (bought.get(organisation.pk) or Decimal(0)) - (used.get(organisation.pk) or Decimal(0))
        organisation.hours_left = left.quantize(Decimal("0.01"))


def _organisation_name(name: str, *, exclude: int | None = None) -> str:
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": _("Give the organisation a name.")})
    taken = Organisation.objects.filter(name__iexact=name)
    if exclude is not None:
        taken = taken.exclude(pk=exclude)
    if taken.exists():
        raise ValidationError({"name": _("An organisation named %(name)s already exists.") % {"name": name}})
    return name


@transaction.atomic
def organisation_create(
    *,
    by: User,
    name: str,
    mfa_required: bool,
    service_level: ServiceLevel,
    valid_from: date,
    valid_until: date | None = None,
) -> Organisation:
    """A new customer organisation with its first contract."""
    organisation = Organisation(name=_organisation_name(name), mfa_required=mfa_required)
    organisation.full_clean()
    organisation.save()
    audit(by=by, obj=organisation, action=ADDITION, message=_("Organisation created."))
    contract_add(
        organisation=organisation,
        by=by,
        service_level=service_level,
        valid_from=valid_from,
        valid_until=valid_until,
    )
    return organisation


@transaction.atomic
def organisation_update(
    *, organisation: Organisation, by: User, name: str, mfa_required: bool
) -> Organisation:
    """A new name, or the second factor made (not) mandatory for its users; switching that on
    revokes their API tokens (``organisation_mfa_required_set``)."""
    organisation = Organisation.objects.select_for_update().get(pk=organisation.pk)
    old = {"name": organisation.name, "mfa_required": organisation.mfa_required}
    organisation.name = _organisation_name(name, exclude=organisation.pk)
    organisation.full_clean()
    organisation.save(update_fields=["name"])
    if mfa_required != organisation.mfa_required:
        organisation_mfa_required_set(organisation=organisation, required=mfa_required)
        organisation.mfa_required = mfa_required
    if message := _changes(old, {"name": organisation.name, "mfa_required": mfa_required}):
        audit(by=by, obj=organisation, action=CHANGE, message=message)
    return organisation


# --- contracts: a change never rewrites the past ----------------------------------------------


def contract_changeable_from(organisation: Organisation) -> date:
    """The first day a contract change may touch. A ticket keeps the level it was registered
    under, so the days up to the organisation's last registration stay as they were: a change
    takes effect the day after. An organisation without tickets (one just taken on) may get a
    contract from any day."""
    last = Ticket.objects.filter(organisation=organisation).aggregate(last=Max("registered_at"))["last"]
    if last is None:
        return EARLIEST_DATE
    return timezone.localdate(last) + timedelta(days=1)


def _first_day_touched(old: Contract | None, new: Contract | None) -> date | None:
    """The earliest day whose level a change (add, edit or delete) makes different."""
    if old is None or new is None:
        return (new or old).valid_from
    if old.service_level_id != new.service_level_id:
        return min(old.valid_from, new.valid_from)
    if old.valid_from != new.valid_from:
        return min(old.valid_from, new.valid_from)
    if old.valid_until != new.valid_until:
        ends = [day for day in (old.valid_until, new.valid_until) if day is not None]
        return min(ends) + timedelta(days=1)
    return None


def _contract_check(*, organisation: Organisation, old: Contract | None, new: Contract | None) -> None:
    if new is not None:
        for field in ("valid_from", "valid_until"):
            day = getattr(new, field)
            if day is not None and not EARLIEST_DATE <= day <= LATEST_DATE:
                raise ValidationError(
                    {
                        field: _("Choose a date between %(first)s and %(last)s.")
                        % {"first": date_text(EARLIEST_DATE), "last": date_text(LATEST_DATE)}
                    }
                )
        if new.valid_until is not None and new.valid_until < new.valid_from:
            raise ValidationError({"valid_until": _("A contract ends on or after the day it starts.")})
        others = Contract.objects.filter(organisation=organisation).exclude(pk=getattr(old, "pk", None))
        overlap = others.filter(
            Q(valid_until__isnull=True) | Q(valid_until__gte=new.valid_from),
            **({"valid_from__lte": new.valid_until} if new.valid_until else {}),
        ).first()
        if overlap is not None:
            raise ValidationError(
                _(
                    "This period overlaps the contract on %(level)s from %(start)s: end that one first, "
                    "or choose dates outside it."
                )
                % {"level": overlap.service_level, "start": date_text(overlap.valid_from)}
            )
    touched = _first_day_touched(old, new)
    changeable = contract_changeable_from(organisation)
    if touched is not None and touched < changeable:
        raise ValidationError(
            _(
                "Tickets registered up to %(day)s keep the level they were registered under: a change "
                "may take effect from %(first)s on. End this contract and add a new one from then."
            )
            % {"day": date_text(changeable - timedelta(days=1)), "first": date_text(changeable)}
        )


def _contract_summary(contract: Contract) -> str:
    until = date_text(contract.valid_until) if contract.valid_until else "…"
    return f"{contract.service_level} {date_text(contract.valid_from)} - {until}"


@transaction.atomic
def contract_add(
    *,
    organisation: Organisation,
    by: User,
    service_level: ServiceLevel,
    valid_from: date,
    valid_until: date | None = None,
) -> Contract:
    # The organisation's row is the lock: two managers adding contracts at once cannot overlap.
    organisation = Organisation.objects.select_for_update().get(pk=organisation.pk)
    contract = Contract(
        organisation=organisation, service_level=service_level, valid_from=valid_from, valid_until=valid_until
    )
    _contract_check(organisation=organisation, old=None, new=contract)
    contract.full_clean()
    contract.save()
    audit(by=by, obj=contract, action=ADDITION, message=_contract_summary(contract))
    return contract


@transaction.atomic
def contract_update(
    *,
    contract: Contract,
    by: User,
    service_level: ServiceLevel,
    valid_from: date,
    valid_until: date | None = None,
) -> Contract:
    organisation = Organisation.objects.select_for_update().get(pk=contract.organisation_id)
    old = Contract.objects.get(pk=contract.pk)
    new = Contract(
        pk=old.pk,
        organisation=organisation,
        service_level=service_level,
        valid_from=valid_from,
        valid_until=valid_until,
    )
    new._state.adding = False  # the row exists: its own start is no clash with itself
    _contract_check(organisation=organisation, old=old, new=new)
    new.full_clean()
    new.save()
    audit(by=by, obj=new, action=CHANGE, message=f"{_contract_summary(old)} → {_contract_summary(new)}")
    return new


@transaction.atomic
def contract_delete(*, contract: Contract, by: User) -> None:
    """Only a contract no ticket depends on: one that starts after the last registration."""
    organisation = Organisation.objects.select_for_update().get(pk=contract.organisation_id)
    old = Contract.objects.get(pk=contract.pk)
    _contract_check(organisation=organisation, old=old, new=None)
    audit(by=by, obj=old, action=DELETION, message=_contract_summary(old))
    old.delete()


# --- products and modules -------------------------------------------------------------------


@transaction.atomic
def product_save(*, product: Product | None, by: User, **fields) -> Product:
    """Create or edit a product. Its code is fixed once made: API clients send it."""
    if product is None:
        product = Product(code=(fields.pop("code", "") or "").strip())
        old = None
    else:
        product = Product.objects.select_for_update().get(pk=product.pk)
        fields.pop("code", None)
        old = {name: getattr(product, name) for name in fields}
    for name, value in fields.items():
        setattr(product, name, value.strip() if isinstance(value, str) else value)
    product.full_clean()
    product.save()
    if old is None:
        audit(by=by, obj=product, action=ADDITION, message=_("Product created."))
    elif message := _changes(old, fields):
        audit(by=by, obj=product, action=CHANGE, message=message)
    return product


@transaction.atomic
def module_save(*, module: Module | None, product: Product, by: User, **fields) -> Module:
    if module is None:
        module = Module(product=product, code=(fields.pop("code", "") or "").strip())
        old = None
    else:
        module = Module.objects.select_for_update().get(pk=module.pk)
        fields.pop("code", None)
        old = {name: getattr(module, name) for name in fields}
    for name, value in fields.items():
        setattr(module, name, value.strip() if isinstance(value, str) else value)
    module.full_clean()
    module.save()
    if old is None:
        audit(by=by, obj=module, action=ADDITION, message=_("Module created."))
    elif message := _changes(old, fields):
        audit(by=by, obj=module, action=CHANGE, message=message)
    return module


@transaction.atomic
def module_delete(*, module: Module, by: User) -> None:
    """Only a module no ticket names: the others stay, for the tickets that do."""
    if Ticket.objects.filter(module=module).exists():
        raise ValidationError(_("Tickets name this module: it stays, for them."))
    audit(by=by, obj=module, action=DELETION, message=_("Module deleted."))
    module.delete()


# --- the RACI table -----------------------------------------------------------------------------

PERFORMS = (RaciLetter.RESPONSIBLE, RaciLetter.ACCOUNTABLE)


def raci_cells() -> dict[tuple[str, str], str]:
    return {
        (step, role): letter for step, role, letter in RaciRule.objects.values_list("step", "role", "letter")
    }


def raci_digest(cells: dict[tuple[str, str], str]) -> str:
    """What the table looked like when a form was shown: a save against a table someone changed
    meanwhile is refused instead of silently undoing their change."""
    text = ";".join(f"{step}:{role}:{letter}" for (step, role), letter in sorted(cells.items()))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


@transaction.atomic
def raci_table_set(*, by: User, cells: dict[tuple[str, str], str], digest: str) -> int:
    """Write the whole table; returns the number of cells changed. Every step keeps someone
    who may perform it (R or A) and at most one accountable role. The desk reads the table on
    every request (``tickets.selectors``): a change holds from the next one on."""
    rows = {(rule.step, rule.role): rule for rule in RaciRule.objects.select_for_update()}
    current = {key: rule.letter for key, rule in rows.items()}
    if digest != raci_digest(current):
        raise ValidationError(_("Someone changed the RACI table meanwhile: here it is as it is now."))
    errors = []
    for step, label in ProcessStep.choices:
        letters = [cells.get((step, role), "") for role in RaciRole.values]
        if not any(letter in PERFORMS for letter in letters):
            errors.append(_("%(step)s: give one role R or A, or nobody may perform it.") % {"step": label})
        if letters.count(RaciLetter.ACCOUNTABLE) > 1:
            errors.append(_("%(step)s: one role at most is accountable (A).") % {"step": label})
    if errors:
        raise ValidationError(errors)
    changed = 0
    for step in ProcessStep.values:
        for role in RaciRole.values:
            key, letter = (step, role), cells.get((step, role), "")
            if letter not in ("", *RaciLetter.values):
                raise ValidationError(_("Choose R, A, C, I or nothing."))
            if current.get(key, "") == letter:
                continue
            changed += 1
            rule = rows.get(key)
            message = f"{step} {role}: {current.get(key) or '-'} → {letter or '-'}"
            if not letter:
                audit(by=by, obj=rule, action=DELETION, message=message)
                rule.delete()
            elif rule is None:
                rule = RaciRule.objects.create(step=step, role=role, letter=letter)
                audit(by=by, obj=rule, action=ADDITION, message=message)
            else:
                rule.letter = letter
                rule.save(update_fields=["letter"])
                audit(by=by, obj=rule, action=CHANGE, message=message)
    return changed


# --- prepaid hours cards -------------------------------------------------------------------------


def hours_cards_for(*, organisation: Organisation) -> list[HoursCard]:
    """The organisation's cards, newest first, each with ``used``, ``left``, ``expired`` and its
    bookings (``booking_list``, with the ticket's reference): two queries, summed here."""
    cards = list(HoursCard.objects.filter(organisation=organisation).order_by("-purchased_on", "-pk"))
    bookings: dict[int, list[HoursBooking]] = {card.pk: [] for card in cards}
    for booking in (
        HoursBooking.objects.filter(card__in=cards)
        .select_related("consultant")
        .only("card_id", "ticket_id", "on", "hours", "note", "consultant__full_name", "consultant__email")
        .order_by("on", "pk")
    ):
        bookings[booking.card_id].append(booking)
    today = timezone.localdate()
    for card in cards:
        card.booking_list = bookings[card.pk]
        card.used = sum((booking.hours for booking in card.booking_list), Decimal(0)).quantize(
            Decimal("0.01")
        )
        card.left = (card.hours - card.used).quantize(Decimal("0.01"))
        card.expired = card.valid_until is not None and card.valid_until < today
    return cards


def _card_check(*, hours: Decimal, purchased_on: date, valid_until: date | None) -> None:
    today = timezone.localdate()
    if hours is None or not MIN_CARD_HOURS <= hours <= MAX_CARD_HOURS:
        raise ValidationError(
            {
                "hours": _("A card holds %(min)s to %(max)s hours.")
                % {"min": MIN_CARD_HOURS, "max": MAX_CARD_HOURS}
            }
        )
    if not EARLIEST_DATE <= purchased_on <= today:
        raise ValidationError({"purchased_on": _("A card is bought today or earlier (from 1990 on).")})
    if valid_until is not None:
        if valid_until < purchased_on:
            raise ValidationError({"valid_until": _("A card is valid until a day after it was bought.")})
        if valid_until > purchased_on + timedelta(days=366 * MAX_CARD_YEARS):
            raise ValidationError(
                {"valid_until": _("A card is valid for %(years)s years at most.") % {"years": MAX_CARD_YEARS}}
            )


@transaction.atomic
def hours_card_add(
    *,
    organisation: Organisation,
    by: User,
    hours: Decimal,
    purchased_on: date,
    valid_until: date | None = None,
    reference: str = "",
) -> HoursCard:
    """A prepaid card the customer bought (SPEC §7: "strippenkaart"); bookings draw from it at once."""
    _card_check(hours=hours, purchased_on=purchased_on, valid_until=valid_until)
    if valid_until is not None and valid_until < timezone.localdate():
        raise ValidationError({"valid_until": _("This card has already expired: it would cover nothing.")})
    card = HoursCard(
        organisation=organisation,
        hours=hours,
        purchased_on=purchased_on,
        valid_until=valid_until,
        reference=(reference or "").strip()[:100],
    )
    card.full_clean()
    card.save()
    audit(by=by, obj=card, action=ADDITION, message=_("%(hours)s hours") % {"hours": hours})
    return card


@transaction.atomic
def hours_card_update(
    *,
    card: HoursCard,
    by: User,
    hours: Decimal,
    purchased_on: date,
    valid_until: date | None = None,
    reference: str = "",
) -> HoursCard:
    """A correction. Hours already booked stay covered: a card never shrinks below what was
    drawn from it, nor ends before its last booking. Locked as ``hours_book`` locks it."""
    card = HoursCard.objects.select_for_update().get(pk=card.pk)
    _card_check(hours=hours, purchased_on=purchased_on, valid_until=valid_until)
    booked = card.bookings.aggregate(used=Sum("hours"), last=Max("on"))
    if booked["used"] is not None and hours < booked["used"]:
        raise ValidationError(
            {"hours": _("%(used)s hours were already booked on this card.") % {"used": booked["used"]}}
        )
    if booked["last"] is not None and valid_until is not None and valid_until < booked["last"]:
        raise ValidationError(
            {"valid_until": _("Hours were booked on it on %(day)s.") % {"day": date_text(booked["last"])}}
        )
    old = {
        "hours": card.hours,
        "purchased_on": card.purchased_on,
        "valid_until": card.valid_until,
        "reference": card.reference,
    }
    card.hours, card.purchased_on, card.valid_until = hours, purchased_on, valid_until
    card.reference = (reference or "").strip()[:100]
    card.full_clean()
    card.save()
    new = {
        "hours": hours,
        "purchased_on": purchased_on,
        "valid_until": valid_until,
        "reference": card.reference,
    }
    if message := _changes(old, new):
        audit(by=by, obj=card, action=CHANGE, message=message)
    return card


# --- maintenance windows -------------------------------------------------------------------------

WEEK_MINUTES = 7 * 24 * 60


def _minutes(weekday: int, moment: time) -> int:
    return weekday * 24 * 60 + moment.hour * 60 + moment.minute


def window_span(weekday: int, starts: time, ends: time) -> tuple[int, int]:
    """Minutes since Monday 00:00 (end may pass the week's end): an end not after the start is
    the next day's, as ``sla.availability.maintenance_intervals`` reads it."""
    start = _minutes(weekday, starts)
    end = _minutes(weekday, ends)
    if ends <= starts:
        end += 24 * 60
    return start, end


def _within(a: tuple[int, int], b: tuple[int, int]) -> bool:
    """Whether span ``a`` lies inside ``b``, on the week's circle (shift ``b`` a week either way)."""
    return any(b[0] + shift <= a[0] and a[1] <= b[1] + shift for shift in (-WEEK_MINUTES, 0, WEEK_MINUTES))


@dataclass(frozen=True)
class Stretch:
    """A stretch of the week the windows cover together, e.g. Friday 20:00 → Monday 04:00."""

    timezone: str
    start_day: str
    start: str
    end_day: str
    end: str


def window_stretches(windows: list[MaintenanceWindow]) -> list[Stretch]:
    """The windows merged, per timezone, into the stretches a reader checks against the SLA."""
    stretches = []
    for tz in sorted({w.timezone for w in windows}):
        spans = sorted(window_span(w.weekday, w.starts, w.ends) for w in windows if w.timezone == tz)
        merged: list[list[int]] = []
        for start, end in spans:
            if merged and start <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], end)
            else:
                merged.append([start, end])
        # the week is a circle: a stretch running past Sunday night joins Monday's first one
        if len(merged) > 1 and merged[-1][1] - WEEK_MINUTES >= merged[0][0]:
            merged[0][0] = merged[-1][0] - WEEK_MINUTES
            merged[-1:] = []
        for start, end in merged:
            stretches.append(
                Stretch(
                    tz,
                    str(Weekday(start // 1440 % 7).label),
                    f"{start % 1440 // 60:02d}:{start % 60:02d}",
                    str(Weekday(end // 1440 % 7).label),
                    f"{end % 1440 // 60:02d}:{end % 60:02d}",
                )
            )
    return stretches


@transaction.atomic
def maintenance_window_save(
    *, window: MaintenanceWindow | None, by: User, weekday: int, starts: time, ends: time, timezone_name: str
) -> MaintenanceWindow:
    """Create or edit a weekly window. Windows may overlap (the seeded Friday 20:00-04:00 runs
    into Saturday's all-day window, as document 001 §5.4 lists them); one that adds nothing to
    another of its timezone is refused, as a mistake."""
    if timezone_name not in available_timezones():
        raise ValidationError({"timezone": _("Choose a timezone such as Europe/Amsterdam.")})
    if weekday not in Weekday.values:
        raise ValidationError({"weekday": _("Choose a weekday.")})
    # The windows are read under a lock: two saves at once cannot both miss each other.
    others = list(MaintenanceWindow.objects.select_for_update().exclude(pk=getattr(window, "pk", None)))
    span = window_span(weekday, starts, ends)
    for other in others:
        if other.timezone == timezone_name and _within(
            span, window_span(other.weekday, other.starts, other.ends)
        ):
            raise ValidationError(_("The window %(other)s already covers this one.") % {"other": other})
    old = None if window is None else str(window)
    window = window or MaintenanceWindow()
    window.weekday, window.starts, window.ends, window.timezone = weekday, starts, ends, timezone_name
    window.full_clean()
    window.save()
    audit(
        by=by,
        obj=window,
        action=ADDITION if old is None else CHANGE,
        message=str(window) if old is None else f"{old} → {window}",
    )
    return window


@transaction.atomic
def maintenance_window_delete(*, window: MaintenanceWindow, by: User) -> None:
    audit(by=by, obj=window, action=DELETION, message=str(window))
    window.delete()
