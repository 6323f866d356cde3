"""What every page's navigation shows beside the links (SPEC §1: a coordinator sees the mail
drafts waiting to be registered, with their count)."""

import functools

from accounts.models import Role
from tickets.caching import mail_drafts_pending


def navigation(request) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or user.role != Role.COORDINATOR or not user.organisation_id:
        return {}
    # A callable: the template calls it only where the link is drawn, once; a view that read
    # the count already (the portal list, in its one cache round trip) passes the number.
    return {"mail_drafts_pending": functools.cache(lambda: mail_drafts_pending(user.organisation_id))}
