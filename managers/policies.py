"""Policy versions as managers edit them (issue 15): a new version starts as a draft copied
from the version in force, its targets are edited, compared with the version in force and
previewed on the open clocks (``sla.whatif``), and it is published (announced) with an
effective date at least a month ahead (SPEC §8, ``managers.announcements.effective_from_check``)."""

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from managers.announcements import effective_from_check, policy_version_copy_terms, policy_version_notify
from sla.models import PolicyVersion, ServiceLevel, ServiceLevelTerms, Target, TargetUnit
from sla.selectors import policy_version_in_force
from sla.whatif import TargetKey
from tickets.choices import Priority, TicketKind

#: The largest amount a target may have, in hours or business days: five years of business
#: days is the calculator's own bound (sla.calendar.MAX_TARGET_BUSINESS_DAYS).
MAX_TARGET_AMOUNT = Decimal(1305)


@transaction.atomic
def policy_draft_create(
    *, document: str, name: str, notes: str = "", at: datetime | None = None
) -> PolicyVersion:
    """A draft: a copy of the targets, level terms and availability target in force today."""
    at = at or timezone.now()
    draft = PolicyVersion.objects.create(document=document.strip(), name=name.strip(), notes=notes.strip())
    policy_version_copy_terms(policy_version_in_force(on=timezone.localdate(at)), draft)
    return draft


def target_check(amount: Decimal | None, unit: str) -> None:
    """A figure is best effort without an amount, or a positive amount up to the bound."""
    if unit == TargetUnit.BEST_EFFORT:
        if amount is not None:
            raise ValidationError({"amount": _("Best effort has no amount; leave it empty.")})
        return
    if amount is None:
        raise ValidationError({"amount": _("Give the number of hours or business days.")})
    if not Decimal(0) < amount <= MAX_TARGET_AMOUNT:
        raise ValidationError(
            {"amount": _("Give an amount above 0 and at most %(max)s.") % {"max": MAX_TARGET_AMOUNT}}
        )


def _editable(version: PolicyVersion) -> None:
    if not version.is_draft:
        raise ValidationError(_("Only a draft can be changed; this version has been published."))


TERMS_FIELDS = (
    "reports_per_year",
    "consultant_lead_days",
    "max_coordinators",
    "own_consultant",
    "channel_portal",
    "channel_mail",
    "channel_phone",
)


@transaction.atomic
def policy_draft_targets_save(
    *,
    draft: PolicyVersion,
    targets: dict[int, tuple[Decimal | None, str]],
    terms: dict[int, dict] | None = None,
    availability_percent: Decimal | None = None,
) -> int:
    """Store the draft's figures: targets (id -> (amount, unit)), level terms (id -> fields)
    and the availability target; the number of targets and terms changed."""
    draft = PolicyVersion.objects.select_for_update().get(pk=draft.pk)
    _editable(draft)
    if availability_percent is not None and not Decimal(0) < availability_percent <= 100:
        raise ValidationError({"availability_percent": _("Give a percentage above 0 and at most 100.")})
    changed = []
    for target in draft.targets.filter(pk__in=targets):
        amount, unit = targets[target.pk]
        target_check(amount, unit)
        if (target.amount, target.unit) != (amount, unit):
            target.amount, target.unit = amount, unit
            changed.append(target)
    Target.objects.bulk_update(changed, ["amount", "unit"])
    changed_terms = []
    for row in draft.level_terms.filter(pk__in=terms or {}):
        values = {name: terms[row.pk][name] for name in TERMS_FIELDS if name in terms[row.pk]}
        if any(getattr(row, name) != value for name, value in values.items()):
            for name, value in values.items():
                setattr(row, name, value)
            changed_terms.append(row)
    ServiceLevelTerms.objects.bulk_update(changed_terms, TERMS_FIELDS)
    if draft.availability_percent != availability_percent:
        draft.availability_percent = availability_percent
        draft.save(update_fields=["availability_percent"])
    return len(changed) + len(changed_terms)


@transaction.atomic
def policy_draft_publish(
    *, draft: PolicyVersion, by: User, effective_from: date, at: datetime | None = None
) -> PolicyVersion:
    """Announce the draft: it takes effect on ``effective_from``, at least one month after
    today (SPEC §8), and every organisation's coordinators are told and may object."""
    at = at or timezone.now()
    draft = PolicyVersion.objects.select_for_update().get(pk=draft.pk)
    _editable(draft)
    effective_from_check(effective_from, at=at, exclude_pk=draft.pk)
    draft.effective_from, draft.announced_at = effective_from, at
    draft.save(update_fields=["effective_from", "announced_at"])
    policy_version_notify(draft, by=by, at=at)
    return draft


@transaction.atomic
def policy_draft_delete(*, draft: PolicyVersion) -> None:
    draft = PolicyVersion.objects.select_for_update().get(pk=draft.pk)
    _editable(draft)
    draft.delete()


# --- reads -------------------------------------------------------------------------------


@dataclass(frozen=True)
class TargetDifference:
    level: str
    ticket_kind: str
    clock: str
    priority: str
    old: str
    new: str

    @property
    def changed(self) -> bool:
        return self.old != self.new


def _display(amount, unit) -> str:
    return Target(amount=amount, unit=unit).display if unit else "-"


def policy_differences(
    *, base: PolicyVersion | None, proposed: dict[TargetKey, tuple[object, str]]
) -> list[TargetDifference]:
    """Target by target, the figure in force and the proposed one; only those that differ.
    Two queries (the base's targets, the levels)."""
    current: dict[TargetKey, tuple[object, str]] = {}
    if base is not None:
        for t in base.targets.all():
            current[(t.service_level_id, t.ticket_kind, t.priority, t.clock)] = (t.amount, t.unit)
    levels = dict(ServiceLevel.objects.values_list("pk", "name"))
    kinds, priorities = dict(TicketKind.choices), dict(Priority.choices)
    clocks = {"response": _("Response"), "resolution": _("Resolution")}
    out = []
    for key in sorted(set(current) | set(proposed), key=lambda k: (levels.get(k[0], ""), k[1], k[3], k[2])):
        old = _display(*current.get(key, (None, "")))
        new = _display(*proposed.get(key, (None, "")))
        if old != new:
            level, kind, priority, clock = key
            out.append(
                TargetDifference(
                    levels.get(level, str(level)),
                    kinds.get(kind, kind),
                    clocks[clock],
                    priorities[priority],
                    old,
                    new,
                )
            )
    return out


@dataclass(frozen=True)
class TermDifference:
    level: str
    term: str
    old: str
    new: str


def _term_text(value) -> str:
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    return "-" if value is None else str(value)


def policy_terms_differences(
    *,
    base: PolicyVersion | None,
    terms: dict[int, dict],
    availability_percent: Decimal | None,
) -> list[TermDifference]:
    """The level terms (service level id -> fields) and availability target that differ from
    the version in force. One query (the base's terms and their levels)."""
    out = []
    old_availability = base.availability_percent if base else None
    if old_availability != availability_percent:
        out.append(
            TermDifference(
                "",
                _("Availability target (%)"),
                _term_text(old_availability),
                _term_text(availability_percent),
            )
        )
    current = (
        {row.service_level_id: row for row in base.level_terms.select_related("service_level")}
        if base
        else {}
    )
    for level_id, fields in terms.items():
        row = current.get(level_id)
        for name in TERMS_FIELDS:
            old = getattr(row, name) if row else None
            if name in fields and old != fields[name]:
                label = str(ServiceLevelTerms._meta.get_field(name).verbose_name)
                level = row.service_level.name if row else str(level_id)
                out.append(TermDifference(level, label, _term_text(old), _term_text(fields[name])))
    return out


def policy_version_list():
    """Drafts first, then the versions by effective date, latest first."""
    return PolicyVersion.objects.order_by("-effective_from", "-pk").select_related("announcement")
