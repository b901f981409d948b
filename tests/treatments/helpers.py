"""Reading pages the way a browser or a crawler would."""

import json
import re
from html import unescape
from html.parser import HTMLParser


def json_ld(html: str) -> list[dict]:
    blocks = re.findall(r'<script type="application/ld\+json">(.*?)</script>', html, re.S)
    return [json.loads(block) for block in blocks]


def count_tag(html: str, tag: str) -> int:
    return len(re.findall(rf"<{tag}[\s>]", html))


def visible_text(html: str) -> str:
    """The page's text with tags removed and whitespace collapsed (scripts and styles dropped)."""
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    text = re.sub(r"<[^>]+>", " ", html)
    return re.sub(r"\s+", " ", unescape(text))


class _FormReader(HTMLParser):
    """Collects the fields of one <form> as the browser would submit them unchanged."""

    def __init__(self, form_id: str):
        super().__init__()
        self.form_id, self.inside, self.data = form_id, False, {}
        self._textarea = self._select = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.inside = attrs.get("id") == self.form_id
        if not self.inside:
            return
        name = attrs.get("name")
        if tag == "input" and name and attrs.get("type") not in ("submit", "file"):
            if attrs.get("type") == "checkbox" and "checked" in attrs and name in self.data:
                # Several ticked boxes of one name (a multiple choice) send every value.
                previous = self.data[name]
                values = previous if isinstance(previous, list) else [previous]
                self.data[name] = [*values, attrs.get("value", "on")]
            elif attrs.get("type") != "checkbox" or "checked" in attrs:
                # A checkbox without a value sends "on"; any other empty input sends "".
                self.data[name] = attrs.get("value", "on" if attrs.get("type") == "checkbox" else "")
        elif tag == "textarea":
            self._textarea = name
            self.data[name] = ""
        elif tag == "select":
            self._select = name
        elif tag == "option" and self._select and "selected" in attrs:
            self.data[self._select] = attrs.get("value", "")

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False
        elif tag == "textarea":
            self._textarea = None
        elif tag == "select":
            self._select = None

    def handle_data(self, data):
        if self._textarea:
            self.data[self._textarea] += data


def form_data(html: str, form_id: str) -> dict[str, str | list[str]]:
    reader = _FormReader(form_id)
    reader.feed(html)
    # Browsers drop the one newline that follows <textarea>.
    return {
        key: value.removeprefix("\n") if isinstance(value, str) else value for key, value in reader.data.items()
    }
