"""What a request answers when a server it needs is down: a 503 with ``Retry-After``, never a 500.

The cache treats a Redis error as a miss (sla_portal.cache) and enqueues after a commit never
fail (sla_portal.tasks_util), so these are the rest: a Redis or broker call made directly, a
database that is restarting. The API answers in its error shape (sla_portal.api); a page gets
a short page of its own, which needs neither the database nor the session.
"""

import sys

from django.db.utils import InterfaceError
from django.db.utils import OperationalError as DatabaseError
from django.http import HttpResponse, JsonResponse
from django.template import loader
from django.utils.translation import gettext as _
from django.views import defaults
from kombu.exceptions import OperationalError as BrokerError
from redis.exceptions import RedisError

OUTAGE_ERRORS = (RedisError, BrokerError, DatabaseError, InterfaceError)
RETRY_AFTER_SECONDS = 30


def outage_message() -> str:
    return _("The service is briefly unavailable; nothing was lost. Please try again in a minute.")


def service_unavailable(request) -> HttpResponse:
    if request.path.startswith("/api/"):
        response = JsonResponse({"message": outage_message(), "errors": {}}, status=503)
    else:
        html = loader.get_template("503.html").render({"message": outage_message()})
        response = HttpResponse(html, status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def server_error(request) -> HttpResponse:
    """``handler500``: a 503 when the exception being handled is an outage."""
    if isinstance(sys.exc_info()[1], OUTAGE_ERRORS):
        return service_unavailable(request)
    return defaults.server_error(request)
