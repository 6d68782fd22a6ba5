"""axe-core (bundled by axe-playwright-python: no npm) on a console page, at a laptop's and a
phone's width, and the phone layout's own check: nothing wider than the screen (issue 17)."""

from __future__ import annotations

from axe_playwright_python.async_playwright import Axe
from playwright.async_api import Page

WIDTHS = {"laptop": (1366, 768), "phone": (390, 844)}
# WCAG 2.2 A and AA, and axe's best practices (landmarks, headings, skip links...).
OPTIONS = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa",
                                                  "best-practice"]},
           "resultTypes": ["violations"]}
_AXE = Axe()


async def violations(page: Page) -> list[str]:
    """axe's violations on the page as it is, one readable line per rule and element."""
    results = await _AXE.run(page, options=OPTIONS)
    return [f"{v['id']} ({v['impact']}): {v['help']} — {', '.join(map(str, n['target']))}: {n['html'][:160]}"
            for v in results.response["violations"] for n in v["nodes"]]


async def overflow(page: Page) -> int:
    """By how many pixels the page is wider than the screen (0: it fits; wide tables scroll in
    their own box)."""
    return int(await page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth"))


async def too_wide(page: Page) -> list[str]:
    """The outermost elements that reach past the screen's right edge (what to fix)."""
    return list(await page.evaluate("""() => {
        const width = document.documentElement.clientWidth, out = [];
        for (const el of document.body.querySelectorAll("*")) {
            // Past the edge itself, or its text past its own box (a long word that does not wrap).
            const spills = el.scrollWidth > el.clientWidth + 1 && getComputedStyle(el).overflowX === "visible";
            if (el.getBoundingClientRect().right <= width + 1 && !spills) continue;
            if (out.some((o) => o.contains(el))) continue;
            out.push(el);
        }
        return out.slice(0, 6).map((el) => el.tagName.toLowerCase() + (el.id ? "#" + el.id : "")
                                   + (el.className ? "." + String(el.className).split(" ").join(".") : ""));
    }"""))


async def check(page: Page, what: str) -> None:
    """axe at both widths, and no sideways scrolling of the page on the phone; the viewport is
    left at the laptop's."""
    found: list[str] = []
    for name, (width, height) in (("phone", WIDTHS["phone"]), ("laptop", WIDTHS["laptop"])):
        await page.set_viewport_size({"width": width, "height": height})
        found += [f"{what} @ {width} px: {line}" for line in await violations(page)]
        if name == "phone" and (extra := await overflow(page)) > 0:
            found.append(f"{what} @ {width} px: the page is {extra} px wider than the screen, because of "
                         f"{', '.join(await too_wide(page))}")
    assert not found, "\n".join(found)
