"""Template helpers for the explainer pages: JSON-LD, shipped illustrations, responsive pictures."""

import json

from django import template
from django.core.serializers.json import DjangoJSONEncoder
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from treatments.illustrations import ILLUSTRATIONS

register = template.Library()

# As Django's json_script: inside <script>, "</script>" or "<!--" in a value must not end the block.
JSON_SCRIPT_ESCAPES = {ord(">"): "\\u003E", ord("<"): "\\u003C", ord("&"): "\\u0026"}


@register.simple_tag
def json_ld(data: dict):
    """<script type="application/ld+json"> with `data`, safe whatever text staff typed."""
    payload = json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False).translate(JSON_SCRIPT_ESCAPES)
    return format_html('<script type="application/ld+json">{}</script>', mark_safe(payload))


@register.inclusion_tag("treatments/_illustration.html")
def illustration(key: str, loading: str = "lazy"):
    return {"illustration": ILLUSTRATIONS.get(key), "loading": loading}


@register.inclusion_tag("treatments/_picture.html")
def picture(image, sizes: str = "100vw", loading: str = "lazy"):
    return {"image": image, "sizes": sizes, "loading": loading}
