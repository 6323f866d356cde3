from django import forms
from django.utils.translation import gettext_lazy as _

from knowledge.models import Article, ArticleLanguage, ArticleStatus, Visibility
from knowledge.selectors import MAX_QUERY_CHARS
from tickets.models import Product


class SearchForm(forms.Form):
    q = forms.CharField(label=_("Search"), max_length=MAX_QUERY_CHARS, required=False)
    product = forms.ModelChoiceField(
        label=_("Product"),
        queryset=Product.objects.filter(active=True),
        required=False,
        empty_label=_("All products"),
    )


class ArticleForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    body_markdown = forms.CharField(
        label=_("Text (Markdown)"),
        max_length=50_000,
        widget=forms.Textarea(attrs={"rows": 18}),
        help_text=_("Markdown: **bold**, *italic*, [link](https://…), lists, tables. HTML is shown as text."),
    )
    language = forms.ChoiceField(label=_("Language"), choices=ArticleLanguage.choices)
    visibility = forms.ChoiceField(label=_("Visibility"), choices=Visibility.choices)
    product = forms.ModelChoiceField(
        label=_("Product"), queryset=Product.objects.all(), required=False, empty_label=_("General")
    )
    translation_of = forms.SlugField(
        label=_("Translation of (the other article's address)"),
        max_length=120,
        required=False,
        help_text=_("The address of the same article in the other language, e.g. printer-prints-blank."),
    )

    def clean_translation_of(self):
        slug = self.cleaned_data["translation_of"]
        if not slug:
            return None
        found = Article.objects.filter(slug=slug).exclude(status=ArticleStatus.ARCHIVED).first()
        if found is None:
            raise forms.ValidationError(_("No article has this address."))
        return found


class SendBackForm(forms.Form):
    note = forms.CharField(
        label=_("What should change"), max_length=1000, widget=forms.Textarea(attrs={"rows": 3})
    )


class FeedbackForm(forms.Form):
    helpful = forms.TypedChoiceField(
        label=_("Did this article help?"),
        choices=[("yes", _("Yes")), ("no", _("No"))],
        coerce=lambda value: value == "yes",
        widget=forms.RadioSelect,
    )
    comment = forms.CharField(
        label=_("Comment (optional, reaches the author)"),
        max_length=1000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class SolvedForm(forms.Form):
    article = forms.ModelChoiceField(queryset=Article.objects.none(), widget=forms.HiddenInput)
    title = forms.CharField(max_length=200, required=False, widget=forms.HiddenInput)

    def __init__(self, *args, articles=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["article"].queryset = articles if articles is not None else Article.objects.none()
