"""The public side of vulnerability reports: ``/.well-known/security.txt`` (RFC 9116) and a
report form for anyone; the managers' list of what came in."""

from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone, translation
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from accounts.permissions import manager_required
from disclosure import services
from disclosure.forms import VulnerabilityReportForm
from disclosure.models import VulnerabilityReport
from sla_portal.client_ip import client_ip

# security.txt says how long it may be trusted; RFC 9116 §2.5.5 advises less than a year.
# Computed per request, it never goes stale however long the site runs between deploys.
SECURITY_TXT_VALID = timedelta(days=180)
RATE_WINDOW_SECONDS = 3600


@require_GET
def security_txt(request):
    site = settings.SITE_URL.rstrip("/")
    expires = (timezone.now() + SECURITY_TXT_VALID).replace(microsecond=0)
    lines = [
        f"Contact: {site}{reverse('disclosure:report')}",
        f"Expires: {expires.strftime('%Y-%m-%dT%H:%M:%SZ')}",
        "Preferred-Languages: nl, en",
        f"Canonical: {site}{reverse('security_txt')}",
    ]
    return HttpResponse("\n".join(lines) + "\n", content_type="text/plain; charset=utf-8")


def _client_address(request) -> str | None:
    return client_ip(request) or None  # behind TRUSTED_PROXIES, the address our proxy saw


def _over_limit(address: str | None) -> bool:
    """Count this address's reports in a fixed hourly window. A cache outage lets the report
    through (a security report must not be lost to a Redis problem)."""
    key = f"disclosure:reports:{address or 'unknown'}"
    try:
        count = 1 if cache.add(key, 1, RATE_WINDOW_SECONDS) else cache.incr(key)
    except Exception:  # any cache failure: fail open
        return False
    return count > settings.SECURITY_REPORTS_PER_HOUR


@never_cache
def report_create(request):
    """Anyone, logged in or not, reports a vulnerability; a handful per address per hour."""
    form = VulnerabilityReportForm(request.POST or None)
    if request.method == "POST":
        address = _client_address(request)
        if _over_limit(address):
            return render(request, "disclosure/report_form.html", {"form": form, "limited": True}, status=429)
        if form.is_valid():
            services.vulnerability_report_create(
                **form.cleaned_data, client_address=address, language=translation.get_language() or ""
            )
            return render(request, "disclosure/report_sent.html")
        return render(request, "disclosure/report_form.html", {"form": form}, status=400)
    return render(request, "disclosure/report_form.html", {"form": form})


@manager_required
def report_list(request):
    return render(
        request, "disclosure/report_list.html", {"reports": VulnerabilityReport.objects.all()[:200]}
    )
