"""
static/css/bootstrap-subset.css (clinic/stylesheet.py, `make css`): committed, current, and holding
every Bootstrap rule the markup asks for; and no Bootstrap JavaScript component the pages lack.
"""

import re
from pathlib import Path

import pytest

from clinic import stylesheet

BASE_DIR = Path(__file__).resolve().parent.parent
STALE = "static/css/bootstrap-subset.css is stale: run `make css` and commit the result."
# A class attribute's static words; `{% ... %}` and `{{ ... }}` parts are skipped (see SAFELIST).
_CLASS_ATTRIBUTE = re.compile(r'\bclass="([^"]*)"')
_TEMPLATE_TAG = re.compile(r"\{[{%].*?[%}]\}", re.DOTALL)


def selectors(css: str) -> list[str]:
    """Every selector of a stylesheet, one per comma-separated part (at-rule preludes included)."""
    preludes = re.findall(r"([^{}]+)\{", re.sub(r"/\*.*?\*/", "", css, flags=re.DOTALL))
    return [part.strip() for prelude in preludes for part in prelude.split(",")]


def classes_of(selector: str) -> set[str]:
    return set(re.findall(r"\.(-?[_a-zA-Z][_a-zA-Z0-9-]*)", re.sub(r'"[^"]*"', "", selector)))


def css_classes(css: str) -> set[str]:
    """The class names a stylesheet's selectors mention."""
    return {name for selector in selectors(css) for name in classes_of(selector)}


def template_classes() -> dict[str, set[str]]:
    """Class names written out in the project's templates: name -> templates using it."""
    used: dict[str, set[str]] = {}
    templates = [*BASE_DIR.glob("templates/**/*.html"), *BASE_DIR.glob("*/templates/**/*.html")]
    for path in templates:
        for value in _CLASS_ATTRIBUTE.findall(path.read_text(encoding="utf-8")):
            for word in _TEMPLATE_TAG.sub(" ", value).split():
                if re.fullmatch(r"[_a-zA-Z][_a-zA-Z0-9-]*", word) and not word.endswith("-"):
                    used.setdefault(word, set()).add(str(path.relative_to(BASE_DIR)))
    return used


def test_committed_subset_is_what_make_css_builds_now():
    assert stylesheet.OUTPUT.read_text(encoding="utf-8") == stylesheet.build(), STALE


def test_subset_keeps_every_bootstrap_class_the_templates_use():
    used = template_classes()
    # Bootstrap's selectors made only of classes the templates use (`.nav-fill .nav-item` needs both).
    needed = set()
    for selector in selectors(stylesheet.SOURCE.read_text(encoding="utf-8")):
        names = classes_of(selector)
        if names and names <= used.keys():
            needed |= names
    subset = css_classes(stylesheet.OUTPUT.read_text(encoding="utf-8"))

    missing = {name: sorted(used[name]) for name in sorted(needed - subset)}

    assert len(needed) > 50, f"only {len(needed)} Bootstrap classes in the templates: is the scan broken?"
    assert not missing, f"{STALE} Missing: {missing}"


@pytest.mark.parametrize("name", ["alert-info", "alert-success", "alert-warning", "alert-danger", "show"])
def test_subset_keeps_classes_set_by_variables_or_javascript(name):
    assert name in css_classes(stylesheet.OUTPUT.read_text(encoding="utf-8"))


def test_templates_use_no_bootstrap_javascript_component_but_the_menu():
    """Pages load static/js/menu.js, not Bootstrap's bundle: it opens and closes collapses, nothing else."""
    toggles = {
        (match, str(path.relative_to(BASE_DIR)))
        for path in [*BASE_DIR.glob("templates/**/*.html"), *BASE_DIR.glob("*/templates/**/*.html")]
        for match in re.findall(r'data-bs-toggle="([^"]*)"', path.read_text(encoding="utf-8"))
    }

    assert toggles, "the header's menu button should be found"
    assert {name for name, _ in toggles} == {"collapse"}, sorted(toggles)


def test_subset_leaves_out_what_no_page_uses():
    subset = css_classes(stylesheet.OUTPUT.read_text(encoding="utf-8"))

    assert not {"modal", "carousel", "offcanvas", "tooltip", "popover", "accordion", "toast"} & subset
    assert len(stylesheet.OUTPUT.read_bytes()) < len(stylesheet.SOURCE.read_bytes()) / 3


def test_a_class_added_to_a_template_is_kept_by_the_next_build(tmp_path, monkeypatch):
    """What another developer's new template gets from `make css`: its classes, nothing to configure."""
    template = tmp_path / "new_calendar.html"
    template.write_text('<p class="placeholder-wave"><span class="spinner-border text-bg-dark"></span></p>')
    scanned = stylesheet.content_files()
    monkeypatch.setattr(stylesheet, "content_files", lambda: [*scanned, template])

    rebuilt = stylesheet.build()

    assert {"placeholder-wave", "spinner-border", "text-bg-dark"} <= css_classes(rebuilt)
    assert "@keyframes spinner-border" in rebuilt  # the animation the new class names comes along
    committed = css_classes(stylesheet.OUTPUT.read_text(encoding="utf-8"))
    assert not {"placeholder-wave", "spinner-border"} & committed
