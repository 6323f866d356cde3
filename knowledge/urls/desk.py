from django.urls import path

from knowledge.views import desk

app_name = "desk_kb"
urlpatterns = [
    path("", desk.article_list, name="list"),
    path("new/", desk.article_new, name="new"),
    path("pick", desk.pick, name="pick"),
    path("<int:pk>/", desk.detail, name="detail"),
    path("<int:pk>/edit/", desk.article_edit, name="edit"),
    path("<int:pk>/revisions/<int:revision_pk>/", desk.revision, name="revision"),
    path("<int:pk>/<slug:step>/", desk.step, name="step"),
]
