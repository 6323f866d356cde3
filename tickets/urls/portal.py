from django.urls import path

from tickets.views import common, portal, search

app_name = "portal"
urlpatterns = [
    path("", portal.home, name="home"),
    path("tickets/new/", portal.register, name="register"),
    path("tickets/<int:pk>/", portal.detail, name="detail"),
    path("tickets/<int:pk>/registered/", portal.registered, name="registered"),
    path("tickets/<int:pk>/<slug:name>/", portal.action, name="action"),
    path("attachments/<int:pk>/", common.attachment_download, name="attachment"),
    path("drafts/", portal.drafts, name="drafts"),
    path("drafts/<int:pk>/", portal.draft, name="draft"),
    path("drafts/<int:pk>/discard/", portal.draft_discard, name="draft_discard"),
    path("draft-files/<int:pk>/", common.mail_draft_file_download, name="draft_file"),
    path("consultancy/", portal.consultancy, name="consultancy"),
    path("preferences/", portal.preferences, name="preferences"),
    path("search/", search.portal_search, name="search"),
]
