"""The managers' satisfaction page (issue 17): scores per week, agent, level and product next
to the SLA compliance of the same tickets."""

from django.shortcuts import render
from django.urls import reverse

from accounts.permissions import manager_required
from managers.satisfaction import satisfaction_overview


@manager_required
def satisfaction(request):
    overview = satisfaction_overview()
    chart = {
        "weeks": [row.label for row in overview.weeks],
        "average": [float(row.average) if row.average is not None else None for row in overview.weeks],
        "met": [float(row.met_percent) if row.met_percent is not None else None for row in overview.weeks],
        "count": [row.count for row in overview.weeks],
    }
    return render(
        request,
        "managers/satisfaction.html",
        {"overview": overview, "chart_data": chart, "dashboard_url": reverse("manager:home")},
    )
