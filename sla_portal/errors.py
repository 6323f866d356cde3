"""Errors the services raise that every interface answers the same way, whichever app's."""


class StaleVersion(Exception):
    """A write based on a version of a row that someone else changed meanwhile: the API answers
    409 Conflict (sla_portal.api). The desk's TicketConflict is one."""
