"""An incident note as people wrote it, in Markdown (issue 17): emphasis, lists, code, quotes and
links, each line break kept. Rendered safely: raw HTML is shown as text, never run; a link may only
go to http(s), mailto or a path (markdown-it refuses javascript:, data:, vbscript: and file:);
images are not fetched (a note is no way to make every reader's browser call an address).
"""

from __future__ import annotations

from markdown_it import MarkdownIt
from markupsafe import Markup

# "js-default": CommonMark without raw HTML; breaks: a line break in the note is one on the page.
_MARKDOWN = MarkdownIt("js-default", {"breaks": True, "html": False}).disable("image")


def render(text: str) -> Markup:
    """The note as HTML, safe to put in a page (every character of the person's text escaped or
    turned into Markdown's own tags)."""
    html = _MARKDOWN.render(text)
    # Links open elsewhere and tell the target nothing of the console (no Referer, no opener).
    # Markup is right here: with html off, markdown-it escapes every character of the text it does
    # not turn into its own tags (tests/unit/test_notes.py tries the usual payloads).
    return Markup(html.replace("<a href=", '<a rel="noopener noreferrer nofollow" target="_blank" href='))  # noqa: S704
