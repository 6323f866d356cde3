"""SLA set-up for managers (issue 15): the service levels, and policy versions drafted, compared
with the version in force, previewed on the open clocks and published (SPEC §8)."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.permissions import manager_required
from managers import policies as service
from managers.announcements import objection_deadline
from managers.sla_setup_forms import DraftTargetsForm, PolicyDraftForm, PublishForm
from managers.views import form_errors
from sla.models import Calendar, PolicyVersion, ServiceLevel
from sla.selectors import policy_version_in_force
from sla.whatif import policy_targets, policy_whatif


@manager_required
def overview(request):
    """The SLA set-up's front page: service levels, calendars, policy versions."""
    return render(
        request,
        "managers/sla_setup.html",
        {
            "levels": ServiceLevel.objects.select_related("calendar"),
            "calendars": Calendar.objects.all(),
            "in_force": policy_version_in_force(on=timezone.localdate()),
        },
    )


@manager_required
def policy_list(request):
    form = PolicyDraftForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            draft = service.policy_draft_create(**form.cleaned_data)
            messages.success(request, _("Draft created from the version in force; edit its targets below."))
            return redirect("manager:policy", pk=draft.pk)
        status = 400
    return render(
        request,
        "managers/policy_list.html",
        {
            "form": form,
            "versions": service.policy_version_list(),
            "in_force": policy_version_in_force(on=timezone.localdate()),
        },
        status=status,
    )


def _targets_of(version: PolicyVersion):
    return list(
        version.targets.select_related("service_level").order_by(
            "service_level__name", "ticket_kind", "clock", "priority"
        )
    )


@manager_required
def policy_detail(request, pk: int):
    """A draft: its targets (editable), their differences from the version in force and what
    they would do to the open clocks; "save" shows only after a preview of the same data;
    publishing takes a date at least a month ahead. A published version: its targets."""
    version = get_object_or_404(PolicyVersion, pk=pk)
    in_force = policy_version_in_force(on=timezone.localdate())
    targets = _targets_of(version)
    action = request.POST.get("action") if request.method == "POST" else None
    terms = list(version.level_terms.select_related("service_level").order_by("service_level__name"))
    targets_form = DraftTargetsForm(
        request.POST if action in ("preview", "save") else None,
        targets=targets,
        terms=terms,
        availability_percent=version.availability_percent,
    )
    publish_form = PublishForm(request.POST if action == "publish" else None)
    previewed = False
    status = 200
    if action and not version.is_draft:
        messages.error(request, _("Only a draft can be changed; this version has been published."))
        return redirect("manager:policy", pk=version.pk)
    if action in ("preview", "save"):
        if not targets_form.is_valid():
            status = 400
        elif action == "save":
            try:
                changed = service.policy_draft_targets_save(
                    draft=version,
                    targets=targets_form.figures(),
                    terms=targets_form.terms_figures(),
                    availability_percent=targets_form.cleaned_data["availability_percent"],
                )
            except ValidationError as exc:
                form_errors(targets_form, exc)
                status = 400
            else:
                messages.success(request, _("Draft saved: %(n)d figure(s) changed.") % {"n": changed})
                return redirect("manager:policy", pk=version.pk)
        else:
            previewed = True
    elif action == "publish":
        if publish_form.is_valid():
            try:
                service.policy_draft_publish(
                    draft=version, by=request.user, effective_from=publish_form.cleaned_data["effective_from"]
                )
            except ValidationError as exc:
                form_errors(publish_form, exc)
                status = 400
            else:
                messages.success(
                    request,
                    _(
                        "SLA change published: announced to every customer organisation, "
                        "whose coordinators may object within a month."
                    ),
                )
                return redirect("manager:objections", pk=version.pk)
        else:
            status = 400
    elif action == "delete":
        service.policy_draft_delete(draft=version)
        messages.success(request, _("Draft deleted."))
        return redirect("manager:policies")
    elif action is not None:
        status = 400
    context = {
        "version": version,
        "in_force": in_force,
        "targets_form": targets_form,
        "publish_form": publish_form,
        "previewed": previewed,
        "targets": targets,
        "deadline": objection_deadline(version),
    }
    targets_invalid = action in ("preview", "save") and status == 400
    if version.is_draft and not targets_invalid:
        proposed = targets_form.proposed() if previewed else policy_targets(version.pk)
        context["differences"] = service.policy_differences(base=in_force, proposed=proposed)
        if previewed:
            figures = targets_form.terms_figures()
            level_terms = {row.service_level_id: figures[row.pk] for row in terms}
            availability = targets_form.cleaned_data["availability_percent"]
        else:
            level_terms = {
                row.service_level_id: {n: getattr(row, n) for n in service.TERMS_FIELDS} for row in terms
            }
            availability = version.availability_percent
        context["term_differences"] = service.policy_terms_differences(
            base=in_force, terms=level_terms, availability_percent=availability
        )
        context["whatif"] = policy_whatif(proposed)
    return render(request, "managers/policy_detail.html", context, status=status)
