"""Availability against the target (SPEC §8): managers record outages and edit the windows."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.permissions import customer_required, manager_required
from managers.availability import availability_overview, outage_record
from managers.forms import AvailabilityTargetForm, MaintenanceWindowFormSet, OutageForm, YearForm
from managers.views import form_errors
from sla.models import MaintenanceWindow, Outage, PolicyVersion


def _year(request) -> tuple[YearForm, int]:
    this_year = timezone.localdate().year
    form = YearForm({"year": request.GET.get("year", this_year)})
    return form, form.cleaned_data["year"] if form.is_valid() else this_year


@manager_required
def availability(request):
    year_form, year = _year(request)
    outage_form = OutageForm(prefix="outage")
    windows = MaintenanceWindowFormSet(prefix="windows", queryset=MaintenanceWindow.objects.all())
    target_form = AvailabilityTargetForm(prefix="target")
    status = 200
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "outage":
            outage_form = OutageForm(request.POST, prefix="outage")
            if outage_form.is_valid():
                try:
                    outage_record(by=request.user, **outage_form.cleaned_data)
                except ValidationError as exc:
                    form_errors(outage_form, exc)
                else:
                    messages.success(request, _("Outage recorded."))
                    return redirect(request.get_full_path())
        elif action == "windows":
            windows = MaintenanceWindowFormSet(
                request.POST, prefix="windows", queryset=MaintenanceWindow.objects.all()
            )
            if windows.is_valid():
                windows.save()
                messages.success(request, _("Maintenance windows saved."))
                return redirect(request.get_full_path())
        elif action == "target":
            target_form = AvailabilityTargetForm(request.POST, prefix="target")
            if target_form.is_valid():
                target_form.save()
                messages.success(request, _("Availability target saved."))
                return redirect(request.get_full_path())
        status = 400
    return render(
        request,
        "managers/availability.html",
        {
            "year_form": year_form,
            "year": year,
            "rows": availability_overview(year=year),
            "outages": Outage.objects.select_related("maintenance").prefetch_related(
                "products", "organisations"
            )[:50],
            "outage_form": outage_form,
            "windows": windows,
            "target_form": target_form,
            "targets": PolicyVersion.objects.all(),
        },
        status=status,
    )


@customer_required
def availability_portal(request):
    year_form, year = _year(request)
    return render(
        request,
        "managers/availability_portal.html",
        {
            "year_form": year_form,
            "year": year,
            "rows": availability_overview(year=year, user=request.user),
            "outages": Outage.objects.for_user(request.user)
            .select_related("maintenance")
            .prefetch_related("products")[:50],
        },
    )
