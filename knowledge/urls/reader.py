from django.urls import path

from knowledge.views import reader

app_name = "kb"
urlpatterns = [
    path("", reader.index, name="index"),
    path("<slug:slug>/", reader.article, name="article"),
    path("<slug:slug>/feedback/", reader.feedback, name="feedback"),
]
