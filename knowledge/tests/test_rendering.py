"""Markdown is rendered safely: no raw HTML, no script links, every link nofollow noopener;
and the links an article holds are checked when it is saved."""

import pytest

from knowledge.rendering import links_check, markdown_render


@pytest.mark.parametrize(
    "text, forbidden",
    [
        ("<script>alert(1)</script>", "<script"),
        ('<img src=x onerror="alert(1)">', "<img"),
        ("<iframe src='https://evil.example'></iframe>", "<iframe"),
        ("[click](javascript:alert(1))", 'href="javascript'),
        ("[click](JaVaScRiPt:alert(1))", 'href="JaVa'),
        ("[click](java\tscript:alert(1))", "href="),
        ("[x](data:text/html;base64,PHNjcmlwdD4=)", 'href="data'),
        ("[x](vbscript:msgbox)", 'href="vbscript'),
        ("![x](https://tracker.example/pixel.gif)", "<img"),
        ('<a href="https://example.org" onclick="x()">a</a>', "<a href"),
    ],
)
def test_raw_html_and_script_links_never_reach_the_page(text, forbidden):
    html = markdown_render(text)
    assert forbidden not in html


def test_raw_html_is_shown_as_text():
    assert "&lt;script&gt;" in markdown_render("<script>alert(1)</script>")


def test_allowed_links_carry_nofollow_noopener():
    html = markdown_render("[docs](https://docs.example.org/a) [mail](mailto:s@example.org) [kb](/kb/x/)")
    assert html.count('rel="nofollow noopener"') == 3
    assert 'href="https://docs.example.org/a"' in html and 'href="/kb/x/"' in html


def test_markdown_still_formats():
    html = markdown_render(
        "# Title\n\n**bold** and a list:\n\n- one\n- two\n\n| a | b |\n|---|---|\n| 1 | 2 |"
    )
    assert "<h1>Title</h1>" in html and "<strong>bold</strong>" in html and "<li>one</li>" in html
    assert "<table>" in html


def test_links_check_reports_what_readers_cannot_follow():
    text = (
        "[a](javascript:alert(1)) [b](http://127.0.0.1/admin) [c](https://localhost/x) "
        "[d](https://ok.example.org/) [e](/kb/missing-article/) [f](/kb/present/) [g](//evil.example/x)"
    )
    problems = {p.url for p in links_check(text, known_slugs=lambda slugs: {"present"} & slugs)}
    assert problems == {
        "javascript:alert(1)",
        "http://127.0.0.1/admin",
        "https://localhost/x",
        "/kb/missing-article/",
        "//evil.example/x",
    }
