"""A note in Markdown on the incident page (issue 17): the person's formatting kept, nothing of the
text ever run as HTML or script, no image fetched, links that cannot run code."""

from __future__ import annotations

import pytest

from console.notes import render


def test_markdown_is_rendered_with_each_line_break_kept() -> None:
    html = render("Called the **CRM owner**.\nExport was `planned`.\n\n- locked\n- reset")
    assert "<strong>CRM owner</strong>.<br>" in html and "<code>planned</code>" in html
    assert "<ul>\n<li>locked</li>\n<li>reset</li>\n</ul>" in html


@pytest.mark.parametrize("payload", [
    "<script>alert(1)</script>", "<img src=x onerror=alert(1)>", '<a href="javascript:alert(1)">x</a>',
    "<iframe src=//evil.example></iframe>", "<svg onload=alert(1)>", "`<script>` and <b onclick=x>",
])
def test_html_in_a_note_is_text(payload: str) -> None:
    html = render(f"before {payload} after")
    assert "<script" not in html and "<img" not in html and "<iframe" not in html and "<svg" not in html
    assert "onerror=alert" not in html.replace("&lt;img src=x onerror=alert(1)&gt;", "")
    assert "&lt;" in html  # shown, as the person typed it


@pytest.mark.parametrize("link", ["javascript:alert(1)", "JaVaScRiPt:alert(1)", "vbscript:msgbox(1)",
                                  "data:text/html;base64,PHNjcmlwdD4=", "file:///etc/passwd"])
def test_a_link_that_could_run_code_is_no_link(link: str) -> None:
    assert "<a " not in render(f"[click]({link})")


def test_a_web_link_opens_elsewhere_telling_nothing_and_no_image_is_fetched() -> None:
    assert render("[ticket](https://tickets.example/PT-12)") == (
        '<p><a rel="noopener noreferrer nofollow" target="_blank" href="https://tickets.example/PT-12">ticket</a></p>\n')
    assert "<img" not in render("![tracker](https://evil.example/pixel.png)")
