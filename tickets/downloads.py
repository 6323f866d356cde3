"""An attachment as a download, alike from the pages and the API.

What a customer uploaded is served as it came: ``sandbox`` keeps a crafted HTML or SVG file
from running script in our origin if a browser renders it anyway, and ``no-store`` keeps it out
of shared and browser caches (it may hold personal data).
"""

from django.http import FileResponse, Http404

from tickets.models import Attachment, MailDraftFile


def attachment_response(attachment: Attachment | MailDraftFile) -> FileResponse:
    """A ticket's attachment or a mail draft's file (both keep the uploaded name and type)."""
    try:
        handle = attachment.file.open("rb")
    except FileNotFoundError as exc:
        raise Http404 from exc
    response = FileResponse(
        handle, as_attachment=True, filename=attachment.original_name, content_type=attachment.content_type
    )
    response["Content-Security-Policy"] = "sandbox"
    response["Cache-Control"] = "private, no-store"
    return response
