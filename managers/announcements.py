"""Informing customers (SPEC §8, §11): announcements by topic, SLA change notices and the
objections customers may file against them. Writes are services; the reads are at the end."""

import calendar as pycalendar
from datetime import date, datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, QuerySet
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.models import Notification, NotificationTopic, Role, User
from managers.availability import maintenance_period_check, maintenance_windows
from sla.models import (
    ANNOUNCEMENT_TOPICS,
    Announcement,
    PolicyObjection,
    PolicyVersion,
    ServiceLevelTerms,
    Target,
)
from sla.selectors import policy_version_in_force
from sla_portal.formatting import date_text, datetime_text
from sla_portal.tasks_util import enqueue_on_commit

#: SPEC §8: announced one month before they take effect; objections within one month.
NOTICE_MONTHS = 1
OBJECTION_MONTHS = 1
MIN_MOTIVATION = 20  # characters: "motivated" means more than a word or two


def add_months(day: date | datetime, months: int):
    """The same day ``months`` later, or the month's last day (31 Jan + 1 month = 28/29 Feb)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return day.replace(year=year, month=month, day=min(day.day, pycalendar.monthrange(year, month)[1]))


def _deliver_after_commit() -> None:
    from accounts.tasks import notification_deliver_pending_task

    enqueue_on_commit(notification_deliver_pending_task)  # caught up by the "notifications" beat


@transaction.atomic
def announcement_publish(
    *,
    by: User,
    topic: str,
    title: str,
    body: str,
    release_notes: str = "",
    maintenance_starts_at: datetime | None = None,
    maintenance_ends_at: datetime | None = None,
    at: datetime | None = None,
) -> Announcement:
    """Publish in the portal and queue an e-mail (outbox) to every active contact subscribed
    to the topic, and to no one else. Planned maintenance carries its period, which must lie
    ahead and inside the maintenance window (``maintenance_period_validate``)."""
    if topic not in ANNOUNCEMENT_TOPICS:
        raise ValidationError({"topic": _("Choose one of the announcement topics.")})
    if not title.strip() or not body.strip():
        raise ValidationError(_("An announcement needs a title and a text."))
    at = at or timezone.now()
    if topic == NotificationTopic.MAINTENANCE:
        maintenance_period_validate(starts_at=maintenance_starts_at, ends_at=maintenance_ends_at, at=at)
    elif maintenance_starts_at or maintenance_ends_at:
        raise ValidationError(
            {"maintenance_starts_at": _("Only planned maintenance has a maintenance period.")}
        )
    announcement = Announcement.objects.create(
        topic=topic,
        title=title.strip(),
        body=body.strip(),
        release_notes=release_notes.strip(),
        maintenance_starts_at=maintenance_starts_at,
        maintenance_ends_at=maintenance_ends_at,
        published_at=at,
        published_by=by,
    )
    recipients = User.objects.filter(is_active=True, subscriptions__topic=topic).distinct()
    Notification.objects.bulk_create(_announcement_mail(announcement, user) for user in recipients)
    _deliver_after_commit()
    return announcement


def maintenance_period_validate(
    *, starts_at: datetime | None, ends_at: datetime | None, at: datetime
) -> None:
    """Document 001 §5.2 leaves out only "de vooraf door de leverancier aangekondigde
    buitengebruikstelling wegens ... onderhoud", and §5.4 plans it in the service window
    (Monday to Friday 20:00-04:00, Saturday and Sunday): so a maintenance announcement names a
    period that lies ahead of it and inside the window."""
    if starts_at is None or ends_at is None:
        raise ValidationError(
            {
                "maintenance_starts_at": _(
                    "Planned maintenance needs its period: when it starts and when it ends."
                )
            }
        )
    if ends_at <= starts_at:
        raise ValidationError({"maintenance_ends_at": _("The maintenance ends after it starts.")})
    if starts_at < at:
        raise ValidationError(
            {
                "maintenance_starts_at": _(
                    "Maintenance is announced before it begins (SLA §5.2): this period has already started."
                )
            }
        )
    outside = maintenance_period_check(maintenance_windows(), starts_at, ends_at)
    if outside:
        first_start, first_end = outside[0]
        raise ValidationError(
            {
                "maintenance_starts_at": _(
                    "Maintenance may only be planned inside the maintenance window (Monday to Friday "
                    "20:00-04:00, Saturday and Sunday all day, Amsterdam time; SLA §5.4): %(start)s to "
                    "%(end)s lies outside it."
                )
                % {
                    "start": datetime_text(first_start),
                    "end": datetime_text(first_end),
                }
            }
        )


def _announcement_mail(announcement: Announcement, user: User) -> Notification:
    with translation.override(user.language):
        subject = f"[{NotificationTopic(announcement.topic).label}] {announcement.title}"
        body = announcement.body
        if announcement.maintenance_starts_at and announcement.maintenance_ends_at:
            body += "\n\n" + _("Maintenance from %(start)s until %(end)s (Amsterdam time).") % {
                "start": datetime_text(announcement.maintenance_starts_at),
                "end": datetime_text(announcement.maintenance_ends_at),
            }
        if announcement.release_notes:
            body += "\n\n" + _("Release notes") + ":\n" + announcement.release_notes
    return Notification(recipient=user, topic=announcement.topic, subject=subject[:200], body=body)


def effective_from_check(effective_from: date, *, at: datetime, exclude_pk: int | None = None) -> None:
    """SPEC §8: a change takes effect at least one month after its announcement, on a date no
    other version takes effect."""
    earliest = add_months(timezone.localdate(at), NOTICE_MONTHS)
    if effective_from < earliest:
        raise ValidationError(
            {
                "effective_from": _(
                    "An SLA change takes effect at least one month after its announcement: "
                    "%(date)s at the earliest."
                )
                % {"date": date_text(earliest)}
            }
        )
    if PolicyVersion.objects.filter(effective_from=effective_from).exclude(pk=exclude_pk).exists():
        raise ValidationError({"effective_from": _("Another SLA version already takes effect on that date.")})


@transaction.atomic
def policy_version_announce(
    *, by: User, document: str, name: str, effective_from: date, notes: str = "", at: datetime | None = None
) -> PolicyVersion:
    """Announce a new SLA version. It takes effect at least one month after the announcement;
    it starts with the targets, level terms and availability target of the version it replaces
    (edited afterwards); every customer
    organisation's coordinators are told, whatever topics they chose."""
    at = at or timezone.now()
    effective_from_check(effective_from, at=at)
    previous = policy_version_in_force(on=effective_from)
    version = PolicyVersion.objects.create(
        document=document.strip(),
        name=name.strip(),
        effective_from=effective_from,
        announced_at=at,
        notes=notes.strip(),
    )
    policy_version_copy_terms(previous, version)
    policy_version_notify(version, by=by, at=at)
    return version


def policy_version_copy_terms(previous: PolicyVersion | None, version: PolicyVersion) -> None:
    """A new version starts with the targets, level terms and availability target of the
    version it replaces."""
    if previous is None:
        return
    version.availability_percent = previous.availability_percent
    version.save(update_fields=["availability_percent"])
    copied = [
        field.attname
        for field in ServiceLevelTerms._meta.concrete_fields
        if field.name not in ("id", "policy_version")
    ]
    ServiceLevelTerms.objects.bulk_create(
        ServiceLevelTerms(policy_version=version, **{name: getattr(terms, name) for name in copied})
        for terms in previous.level_terms.all()
    )
    Target.objects.bulk_create(
        Target(
            policy_version=version,
            service_level_id=t.service_level_id,
            ticket_kind=t.ticket_kind,
            priority=t.priority,
            clock=t.clock,
            amount=t.amount,
            unit=t.unit,
        )
        for t in previous.targets.all()
    )


def policy_version_notify(version: PolicyVersion, *, by: User, at: datetime) -> None:
    """The change notice: in the portal, and to every organisation's coordinators."""
    Announcement.objects.create(
        topic=NotificationTopic.NEWS,
        policy_version=version,
        published_at=at,
        published_by=by,
        title=_("SLA change from %(date)s: %(name)s")
        % {"date": date_text(version.effective_from), "name": version.name},
        body=version.notes,
    )
    coordinators = User.objects.filter(
        is_active=True, role=Role.COORDINATOR, organisation__isnull=False
    ).select_related("organisation")
    Notification.objects.bulk_create(_change_notice(version, user) for user in coordinators)
    _deliver_after_commit()


def objection_deadline(version: PolicyVersion) -> datetime | None:
    if version.announced_at is None:
        return None
    return add_months(timezone.localtime(version.announced_at), OBJECTION_MONTHS)


def _change_notice(version: PolicyVersion, user: User) -> Notification:
    deadline = objection_deadline(version)
    with translation.override(user.language):
        subject = _("SLA change from %(date)s") % {"date": date_text(version.effective_from)}
        body = "\n\n".join(
            filter(
                None,
                [
                    _("The SLA changes: %(name)s takes effect on %(date)s.")
                    % {"name": version.name, "date": date_text(version.effective_from)},
                    version.notes,
                    _(
                        "As coordinator of %(organisation)s you may object, with your reasons, in the portal "
                        "until %(deadline)s."
                    )
                    % {"organisation": user.organisation, "deadline": datetime_text(deadline)},
                ],
            )
        )
    return Notification(recipient=user, topic=NotificationTopic.NEWS, subject=subject, body=body)


@transaction.atomic
def policy_objection_file(
    *, policy_version: PolicyVersion, by: User, motivation: str, at: datetime | None = None
) -> PolicyObjection:
    """A coordinator objects, with reasons, within one month of the announcement (SPEC §8)."""
    at = at or timezone.now()
    if by.role != Role.COORDINATOR or by.organisation_id is None:
        raise PermissionDenied(_("Only your organisation's coordinators may object to an SLA change."))
    deadline = objection_deadline(policy_version)
    if deadline is None:
        raise ValidationError(
            _("This SLA version was never announced as a change; there is nothing to object to.")
        )
    if at > deadline:
        raise ValidationError(
            _(
                "The period for objections to this SLA change ended on %(date)s; "
                "an objection can no longer be filed."
            )
            % {"date": datetime_text(deadline)}
        )
    motivation = motivation.strip()
    if len(motivation) < MIN_MOTIVATION:
        raise ValidationError(
            {"motivation": _("Give your reasons (at least %(n)d characters).") % {"n": MIN_MOTIVATION}}
        )
    try:
        with transaction.atomic():
            return PolicyObjection.objects.create(
                policy_version=policy_version,
                organisation_id=by.organisation_id,
                filed_by=by,
                motivation=motivation,
                filed_at=at,
            )
    except IntegrityError as exc:
        raise ValidationError(_("Your organisation has already objected to this SLA change.")) from exc


# --- reads -------------------------------------------------------------------------------


def announcement_list(*, topic: str | None = None) -> QuerySet[Announcement]:
    announcements = Announcement.objects.select_related("policy_version")
    return announcements.filter(topic=topic) if topic else announcements


def policy_version_list_announced() -> QuerySet[PolicyVersion]:
    return (
        PolicyVersion.objects.filter(announced_at__isnull=False)
        .annotate(objection_count=Count("objections"))
        .order_by("-effective_from")
    )


def policy_objections_for(*, policy_version: PolicyVersion) -> QuerySet[PolicyObjection]:
    return policy_version.objections.select_related("organisation", "filed_by").order_by("filed_at")
