"""Every write to the explainer beyond plain admin saves: renditions and cache invalidation."""

from collections.abc import Iterable
from pathlib import PurePosixPath

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction

from treatments import caching
from treatments.images import has_transparency, open_upright, rendition_widths, resized_bytes
from treatments.models import ImageRendition, TreatmentImage

PILLOW_FORMATS = {
    ImageRendition.Format.WEBP: "WEBP",
    ImageRendition.Format.JPEG: "JPEG",
    ImageRendition.Format.PNG: "PNG",
}


def explainer_pages_invalidate(*, slugs: Iterable[str]) -> None:
    """After the transaction commits, make the cached pages of these treatments (and the index) stale."""
    namespaces = {*slugs, caching.INDEX}

    # On commit, not now: a visitor rendering between now and the commit would read the old rows
    # and store them under the new version.
    def bump():
        for namespace in namespaces:
            caching.version_bump(namespace)

    transaction.on_commit(bump)


@transaction.atomic
def image_renditions_build(*, image: TreatmentImage) -> list[ImageRendition]:
    """Replace the image's renditions: WebP plus a JPEG (PNG if transparent) fallback at each width."""
    stale = list(image.renditions.all())
    image.renditions.all().delete()
    files_delete_on_commit(names=[rendition.file.name for rendition in stale])
    image.image.open("rb")
    try:
        picture = open_upright(image.image)
    finally:
        image.image.close()
    fallback = ImageRendition.Format.PNG if has_transparency(picture) else ImageRendition.Format.JPEG
    stem = PurePosixPath(image.image.name).stem
    renditions = []
    for width in rendition_widths(picture.width):
        for rendition_format in (ImageRendition.Format.WEBP, fallback):
            content, height = resized_bytes(picture, width, PILLOW_FORMATS[rendition_format])
            rendition = ImageRendition(image=image, width=width, height=height, format=rendition_format)
            name = f"{image.pk}/{stem}-{width}w.{rendition_format}"
            rendition.file.save(name, ContentFile(content), save=False)
            renditions.append(rendition)
    return ImageRendition.objects.bulk_create(renditions)


def image_files_collect(*, image: TreatmentImage) -> list[str]:
    """The stored files of an image and its renditions (to delete once the image row is gone)."""
    return [image.image.name, *(rendition.file.name for rendition in image.renditions.all())]


def files_delete_on_commit(*, names: Iterable[str]) -> None:
    names = [name for name in names if name]

    def delete():
        for name in names:
            default_storage.delete(name)

    transaction.on_commit(delete)
