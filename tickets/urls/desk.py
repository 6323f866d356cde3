from django.urls import path

from tickets.views import common, desk, search, workspace

app_name = "desk"
urlpatterns = [
    path("", desk.queue, name="queue"),
    path("views/", desk.saved_view_save, name="view_save"),
    path("views/<int:pk>/delete/", desk.saved_view_delete, name="view_delete"),
    path("tickets/<int:pk>/", desk.detail, name="detail"),
    path("tickets/<int:pk>/presence/", workspace.presence, name="presence"),
    path("bulk/", workspace.bulk, name="bulk"),
    path("macros/", workspace.macros, name="macros"),
    path("macros/<int:pk>/", workspace.macro_edit, name="macro_edit"),
    path("tickets/<int:pk>/<slug:name>/", desk.action, name="action"),
    path("attachments/<int:pk>/", common.attachment_download, name="attachment"),
    path("drafts/", desk.drafts, name="drafts"),
    path("drafts/<int:pk>/", desk.draft, name="draft"),
    path("draft-files/<int:pk>/", common.mail_draft_file_download, name="draft_file"),
    path("consultancy/", desk.consultancy, name="consultancy"),
    path("approvals/", desk.approvals, name="approvals"),
    path("organisations/", desk.organisations, name="organisations"),
    path("organisations/<int:pk>/", desk.organisation, name="organisation"),
    path("organisations/<int:pk>/coordinators/", desk.coordinators, name="coordinators"),
    path("search/", search.desk_search, name="search"),
]
