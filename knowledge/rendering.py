"""Markdown to safe HTML, and the check of an article's links.

markdown-it-py with raw HTML off: a ``<script>`` or ``<img onerror>`` typed in an article is
shown as text, never passed through. Links may only point to http(s), mailto or a path on
this site; anything else (``javascript:``, ``data:``, ``file:``) is not made a link at all.
Images are off: the pages' Content-Security-Policy would block outside ones anyway, and an
article is text. Every link gets ``rel="nofollow noopener"``."""

import ipaddress
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from markdown_it import MarkdownIt

ALLOWED_SCHEMES = ("http", "https", "mailto")
# Characters browsers drop from a scheme before reading it ("java\tscript:").
_INVISIBLE = re.compile(r"[\x00-\x20\x7f]+")


def _scheme(url: str) -> str | None:
    """The scheme as a browser reads it, or None for a relative link."""
    cleaned = _INVISIBLE.sub("", url).lower()
    match = re.match(r"^([a-z][a-z0-9+.\-]*):", cleaned)
    return match.group(1) if match else None


def link_allowed(url: str) -> bool:
    scheme = _scheme(url)
    if scheme is None:
        return not url.strip().startswith("//")  # protocol-relative: another host, unchecked
    return scheme in ALLOWED_SCHEMES


def _make_parser() -> MarkdownIt:
    parser = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    parser.enable("table").enable("strikethrough").disable("image")
    parser.validateLink = link_allowed

    def link_open(renderer, tokens, idx, options, env):
        tokens[idx].attrSet("rel", "nofollow noopener")
        return renderer.renderToken(tokens, idx, options, env)

    parser.add_render_rule("link_open", link_open)
    return parser


_PARSER = _make_parser()


def markdown_render(text: str) -> SafeString:
    """Safe HTML of an article's text, ready for a template."""
    html = _PARSER.render(text or "")
    return mark_safe(html)  # noqa: S308  # nosec B308 B703  (raw HTML off, links checked above)


def markdown_links(text: str) -> list[str]:
    """Every link target written in the text, allowed or not, in order."""
    found = []
    # validateLink drops disallowed links while parsing, so read them with a permissive parser.
    for token in _PERMISSIVE.parse(text or ""):
        for child in token.children or []:
            if child.type == "link_open":
                found.append(str(child.attrGet("href") or ""))
    return list(dict.fromkeys(found))


_PERMISSIVE = MarkdownIt("commonmark", {"html": False}).disable("image")
_PERMISSIVE.validateLink = lambda url: True


@dataclass(frozen=True)
class LinkProblem:
    url: str
    reason: str


def _host_is_internal(host: str) -> bool:
    if host in ("localhost", "localhost.localdomain") or host.endswith(".localhost"):
        return True
    try:
        ip = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False  # a name: resolving it is the outbound fetch we do not make on save
    return not ip.is_global


def links_check(text: str, *, known_slugs=None) -> list[LinkProblem]:
    """The links readers could not follow: a scheme that is not allowed, a web address without
    a host or on an internal one, or an article of this knowledge base that does not exist
    (``known_slugs(slugs) -> set`` answers which exist). Nothing is fetched."""
    problems: list[LinkProblem] = []
    kb_slugs: dict[str, str] = {}
    for url in markdown_links(text):
        scheme = _scheme(url)
        if not link_allowed(url):
            problems.append(LinkProblem(url, _("only http, https, mailto and this site's pages")))
            continue
        if scheme in ("http", "https"):
            host = urlsplit(url.strip()).hostname or ""
            if not host:
                problems.append(LinkProblem(url, _("the address has no host")))
            elif _host_is_internal(host):
                problems.append(LinkProblem(url, _("the address is internal: readers cannot reach it")))
        if match := re.search(r"/kb/([-a-zA-Z0-9_]+)/?(?:[?#].*)?$", url):
            kb_slugs[match.group(1)] = url
    if kb_slugs and known_slugs is not None:
        existing = known_slugs(set(kb_slugs))
        for slug, url in kb_slugs.items():
            if slug not in existing:
                problems.append(LinkProblem(url, _("no article has this address")))
    return problems
