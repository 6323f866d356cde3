"""Service reports: managers request and follow them, customers read their own."""

from django.contrib import messages
from django.http import HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from accounts.permissions import customer_required, manager_required
from accounts.tenancy import get_for_user_or_404
from managers.forms import ReportRequestForm
from managers.reports import service_report_request
from managers.views import form_post
from sla.models import ReportStatus, ServiceReport


@manager_required
def reports(request):
    def request_report(data):
        report = service_report_request(by=request.user, **data)
        messages.success(request, _("The report is being produced."))
        return redirect("manager:report_detail", pk=report.pk)

    form, response, status = form_post(request, ReportRequestForm, request_report)
    if response:
        return response
    listed = ServiceReport.objects.select_related("organisation").defer("html", "pdf")[:100]
    return render(request, "managers/reports.html", {"form": form, "reports": listed}, status=status)


@manager_required
def report_detail(request, pk: int):
    report = get_object_or_404(ServiceReport.objects.select_related("organisation"), pk=pk)
    return render(request, "managers/report_detail.html", {"report": report, "manager": True})


@manager_required
def report_status(request, pk: int):
    report = get_object_or_404(ServiceReport.objects.only("status", "progress", "error"), pk=pk)
    return JsonResponse(
        {
            "status": report.status,
            "progress": report.progress,
            "label": report.get_status_display(),
            "error": report.error,
            "done": report.status == ReportStatus.DONE,
        }
    )


def _pdf(report: ServiceReport) -> HttpResponse:
    if report.status != ReportStatus.DONE:
        return HttpResponse(_("The report is not ready yet."), status=409, content_type="text/plain")
    response = HttpResponse(bytes(report.pdf), content_type="application/pdf")
    response["Content-Disposition"] = (
        f'attachment; filename="service-report-{report.organisation_id}-'
        f'{report.period_start}-{report.period_end}.pdf"'
    )
    return response


@manager_required
def report_pdf(request, pk: int):
    return _pdf(get_object_or_404(ServiceReport, pk=pk))


@customer_required
def reports_portal(request):
    listed = (
        ServiceReport.objects.for_user(request.user).filter(status=ReportStatus.DONE).defer("html", "pdf")
    )
    return render(request, "managers/reports_portal.html", {"reports": listed})


@customer_required
def report_detail_portal(request, pk: int):
    report = get_for_user_or_404(
        ServiceReport.objects.select_related("organisation"), request.user, pk=pk, status=ReportStatus.DONE
    )
    return render(request, "managers/report_detail.html", {"report": report, "manager": False})


@customer_required
def report_pdf_portal(request, pk: int):
    return _pdf(get_for_user_or_404(ServiceReport.objects.all(), request.user, pk=pk))
