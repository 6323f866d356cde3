"""Pages of support managers (namespace "manager") and the customers' service pages
(namespace "service"): dashboard, availability, announcements, SLA changes, reports."""

from django.core.exceptions import ValidationError


def form_errors(form, exc: ValidationError) -> None:
    """A service's ValidationError onto the form: on its field when it names one."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


def form_post(request, form_class, submit):
    """A page's form that posts to itself: (form, response, status). On a valid POST
    ``submit(cleaned_data)`` calls the service and returns the redirect; a ValidationError
    it raises lands on the form (400)."""
    if request.method != "POST":
        return form_class(), None, 200
    form = form_class(request.POST)
    if form.is_valid():
        try:
            return form, submit(form.cleaned_data), 200
        except ValidationError as exc:
            form_errors(form, exc)
    return form, None, 400


def int_or_none(value) -> int | None:
    """A posted id or number, or None when it is missing or not a number."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
