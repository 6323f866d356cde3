"""Announcements by topic and SLA change notices (SPEC §8, §11), for managers and customers."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.permissions import customer_required, manager_required
from managers import announcements as service
from managers.forms import AnnouncementForm, ObjectionForm, PolicyAnnounceForm
from managers.views import form_errors, form_post
from sla.models import ANNOUNCEMENT_TOPICS, PolicyObjection, PolicyVersion


@manager_required
def announcements(request):
    def publish(data):
        service.announcement_publish(by=request.user, **data)
        messages.success(request, _("Announcement published."))
        return redirect("manager:announcements")

    form, response, status = form_post(request, AnnouncementForm, publish)
    return response or render(
        request,
        "managers/announcements.html",
        {"form": form, "announcements": service.announcement_list()[:100]},
        status=status,
    )


@manager_required
def sla_changes(request):
    def announce(data):
        version = service.policy_version_announce(by=request.user, **data)
        messages.success(
            request,
            _("SLA change announced to every customer organisation; edit its targets in the administration."),
        )
        return redirect("manager:objections", pk=version.pk)

    form, response, status = form_post(request, PolicyAnnounceForm, announce)
    return response or render(
        request,
        "managers/sla_changes.html",
        {"form": form, "versions": service.policy_version_list_announced()},
        status=status,
    )


@manager_required
def objections(request, pk: int):
    version = get_object_or_404(PolicyVersion, pk=pk)
    return render(
        request,
        "managers/objections.html",
        {
            "version": version,
            "deadline": service.objection_deadline(version),
            "objections": service.policy_objections_for(policy_version=version),
        },
    )


@customer_required
def announcements_portal(request):
    topic = request.GET.get("topic")
    topic = topic if topic in ANNOUNCEMENT_TOPICS else None  # an unknown one filters nothing, as elsewhere
    return render(
        request,
        "managers/announcements_portal.html",
        {"announcements": service.announcement_list(topic=topic)[:100]},
    )


@customer_required
def sla_changes_portal(request):
    versions = list(service.policy_version_list_announced())
    mine = {o.policy_version_id: o for o in PolicyObjection.objects.for_user(request.user)}
    now = timezone.now()
    for version in versions:
        version.deadline = service.objection_deadline(version)
        version.open = version.deadline is not None and now <= version.deadline
        version.my_objection = mine.get(version.pk)
    return render(
        request,
        "managers/sla_changes_portal.html",
        {"versions": versions, "form": ObjectionForm(), "is_coordinator": request.user.role == "coordinator"},
    )


@customer_required
def objection_file(request, pk: int):
    version = get_object_or_404(PolicyVersion, pk=pk, announced_at__isnull=False)
    form = ObjectionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            service.policy_objection_file(
                policy_version=version, by=request.user, motivation=form.cleaned_data["motivation"]
            )
        except PermissionDenied as exc:
            form.add_error(None, str(exc) or _("Only coordinators may object."))
            status = 403
        except ValidationError as exc:
            form_errors(form, exc)
            status = 400
        else:
            messages.success(request, _("Your objection was filed."))
            return redirect("service:sla_changes")
    else:
        status = 400 if request.method == "POST" else 200
    return render(
        request,
        "managers/objection_form.html",
        {"version": version, "form": form, "deadline": service.objection_deadline(version)},
        status=status,
    )
