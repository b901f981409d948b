"""Assertions on a live page: one h1, layout that fits the screen, WCAG A/AA audit with axe-core."""

from functools import cache
from pathlib import Path

import pytest
from playwright.sync_api import Page

AXE_PATH = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]

_RUN_AXE = """
(tags) => axe.run(document, {runOnly: {type: "tag", values: tags}, resultTypes: ["violations"]})
"""

# Elements sticking out past the right edge of the viewport, described as tag#id.class.
_OVERFLOW = """
() => {
  const width = document.documentElement.clientWidth;
  const describe = (el) => el.tagName.toLowerCase() + (el.id ? "#" + el.id : "")
      + [...el.classList].map((name) => "." + name).join("");
  const wide = [...document.body.querySelectorAll("*")]
      .filter((el) => el.getBoundingClientRect().right > width + 1)
      .map((el) => `${describe(el)} (right edge at ${Math.round(el.getBoundingClientRect().right)}px)`);
  return {width, scrollWidth: document.documentElement.scrollWidth, wide: wide.slice(0, 8)};
}
"""


def require_axe() -> None:
    if not AXE_PATH.exists():
        pytest.fail(
            f"axe-core is not installed at {AXE_PATH}. `make test` installs it (npm ci).", pytrace=False
        )


@cache
def _axe_source() -> str:
    require_axe()
    return AXE_PATH.read_text(encoding="utf-8")


def assert_no_axe_violations(page: Page) -> None:
    """Run axe-core's WCAG 2.0/2.1/2.2 A and AA rules on the page; fail listing every violation."""
    __tracebackhide__ = True
    # Audit the page as a person sees it: after its stylesheets have loaded (sizes, contrast).
    # On a loaded machine a step can be checked while the CSS of a new page is still arriving.
    page.wait_for_load_state("load")
    # Evaluated through the DevTools protocol, so a Content-Security-Policy cannot block it.
    if page.evaluate("typeof window.axe") == "undefined":
        page.evaluate(_axe_source())
    violations = page.evaluate(_RUN_AXE, WCAG_TAGS)["violations"]
    if violations:
        size = page.viewport_size or {}
        lines = [
            f"axe-core found {len(violations)} WCAG A/AA violation(s) on {page.url} "
            f"at {size.get('width')}x{size.get('height')}:"
        ]
        for violation in violations:
            lines.append(f"- {violation['id']} ({violation['impact']}): {violation['help']}")
            lines.append(f"  {violation['helpUrl']}")
            for node in violation["nodes"]:
                target = " ".join(str(part) for part in node["target"])
                summary = " ".join(node.get("failureSummary", "").split())
                lines.append(f"    {target} - {summary}")
        raise AssertionError("\n".join(lines))


def assert_no_horizontal_overflow(page: Page) -> None:
    """The page is no wider than the viewport: nothing to scroll sideways on a phone."""
    __tracebackhide__ = True
    layout = page.evaluate(_OVERFLOW)
    if layout["scrollWidth"] > layout["width"]:
        raise AssertionError(
            f"{page.url} scrolls sideways: {layout['scrollWidth']}px of content in a {layout['width']}px "
            "viewport. Elements past the right edge:\n" + "\n".join(f"  {item}" for item in layout["wide"])
        )


def assert_page_is_accessible(page: Page) -> None:
    """Exactly one h1, nothing to scroll sideways, and no WCAG A/AA violation."""
    __tracebackhide__ = True
    page.wait_for_load_state("load")
    headings = page.locator("h1").count()
    assert headings == 1, f"{page.url} has {headings} h1 elements; a page has exactly one"
    assert_no_horizontal_overflow(page)
    assert_no_axe_violations(page)
