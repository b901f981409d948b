"""Uploaded pictures: refused with a reason when unusable, resized into WebP and fallback renditions."""

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from tests.treatments.factories import TreatmentFactory, image_bytes
from tests.treatments.helpers import form_data
from treatments.models import ImageRendition, Treatment, TreatmentImage
from treatments.services import image_renditions_build

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media_root")]


def stored_image(width: int, height: int, **kwargs) -> TreatmentImage:
    image_format = "PNG" if kwargs.get("mode") == "RGBA" else "JPEG"
    picture = TreatmentImage(treatment=TreatmentFactory(), alt_text="A treatment room")
    name = f"room.{image_format.lower()}"
    content = image_bytes(width, height, image_format=image_format, **kwargs)
    picture.image.save(name, ContentFile(content, name=name))
    return picture


def shapes(image: TreatmentImage) -> list[tuple[int, int, str, str]]:
    """(width, height, format, what Pillow finds in the file) for each rendition."""
    found = []
    for rendition in image.renditions.order_by("width", "format"):
        with Image.open(rendition.file.path) as file:
            assert file.size == (rendition.width, rendition.height)
            found.append((rendition.width, rendition.height, rendition.format, file.format))
    return found


def test_large_photo_gets_webp_and_jpeg_renditions_at_each_width():
    image = stored_image(2000, 1000)

    image_renditions_build(image=image)

    assert shapes(image) == [
        (480, 240, "jpeg", "JPEG"),
        (480, 240, "webp", "WEBP"),
        (960, 480, "jpeg", "JPEG"),
        (960, 480, "webp", "WEBP"),
        (1440, 720, "jpeg", "JPEG"),
        (1440, 720, "webp", "WEBP"),
    ]


def test_small_photo_is_never_upscaled():
    image = stored_image(600, 400)

    image_renditions_build(image=image)

    assert {(width, height) for width, height, _, _ in shapes(image)} == {(480, 320), (600, 400)}


def test_transparent_picture_falls_back_to_png_and_keeps_its_transparency():
    image = stored_image(500, 500, mode="RGBA")

    image_renditions_build(image=image)

    assert {fmt for _, _, fmt, _ in shapes(image)} == {"png", "webp"}
    with Image.open(image.renditions.get(format="png", width=480).file.path) as png:
        assert png.mode == "RGBA"


def test_rebuilding_replaces_the_old_renditions_and_their_files(django_capture_on_commit_callbacks):
    image = stored_image(1000, 500)
    image_renditions_build(image=image)
    old_paths = [rendition.file.path for rendition in image.renditions.all()]

    with django_capture_on_commit_callbacks(execute=True):
        image_renditions_build(image=image)

    assert image.renditions.count() == 6
    assert not any(Image.os.path.exists(path) for path in old_paths)


def change_url(treatment: Treatment) -> str:
    return reverse("admin:treatments_treatment_change", args=[treatment.pk])


def upload(admin_client, treatment: Treatment, upload_file, *, role="hero"):
    """Add one picture through the treatment's admin page, as staff would."""
    data = form_data(admin_client.get(change_url(treatment)).content.decode(), "treatment_form")
    data.update(
        {
            "images-TOTAL_FORMS": "1",
            "images-0-image": upload_file,
            "images-0-alt_text": "Our calm treatment room",
            "images-0-caption": "",
            "images-0-role": role,
            "images-0-position": "0",
            "_save": "Save",
        }
    )
    return admin_client.post(change_url(treatment), data)


def jpeg_upload(width=1600, height=900, name="room.jpg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, image_bytes(width, height), content_type="image/jpeg")


def test_upload_in_the_admin_builds_renditions_used_in_the_page_srcset(
    client, admin_client, django_capture_on_commit_callbacks
):
    treatment = Treatment.objects.get(slug="microneedling")

    with django_capture_on_commit_callbacks(execute=True):
        assert upload(admin_client, treatment, jpeg_upload()).status_code == 302

    image = treatment.images.get()
    assert (image.width, image.height) == (1600, 900)
    assert image.renditions.count() == 6
    html = client.get(treatment.get_absolute_url()).content.decode()
    assert '<source type="image/webp" srcset="' in html
    for rendition in image.renditions.all():
        assert f"{rendition.file.url} {rendition.width}w" in html
    assert 'width="1600" height="900" alt="Our calm treatment room"' in html
    assert 'sizes="(min-width: 992px) 800px, 100vw"' in html


def refusal(response) -> str:
    assert response.status_code == 200, "the broken upload was accepted"
    assert TreatmentImage.objects.count() == 0
    return response.content.decode()


def test_a_file_that_is_not_a_picture_is_refused_with_a_reason(admin_client):
    treatment = TreatmentFactory()
    fake = SimpleUploadedFile("notes.jpg", b"Just some text, not a photo.", content_type="image/jpeg")

    html = refusal(upload(admin_client, treatment, fake))

    assert "This file is not a picture we can read" in html
    assert "Upload a JPEG, PNG or WebP image." in html


def test_a_damaged_picture_is_refused(admin_client):
    broken = image_bytes(400, 300)
    broken = broken[:40] + b"\x00" * 200 + broken[240:]
    damaged = SimpleUploadedFile("broken.jpg", broken, "image/jpeg")

    html = refusal(upload(admin_client, TreatmentFactory(), damaged))

    assert "This file is not a picture we can read" in html


def test_a_truncated_picture_is_refused(admin_client):
    whole = image_bytes(800, 600)
    cut = SimpleUploadedFile("cut.jpg", whole[: len(whole) // 2], "image/jpeg")

    html = refusal(upload(admin_client, TreatmentFactory(), cut))

    assert "This file is not a picture we can read" in html


def test_a_gif_is_refused_with_the_accepted_formats(admin_client):
    gif = SimpleUploadedFile("anim.gif", image_bytes(50, 50, image_format="GIF", mode="RGB"), "image/gif")

    assert "GIF pictures are not accepted" in refusal(upload(admin_client, TreatmentFactory(), gif))


def test_an_oversize_file_is_refused_with_the_limit(admin_client, settings):
    settings.TREATMENT_IMAGE_MAX_BYTES = 2048

    html = refusal(upload(admin_client, TreatmentFactory(), jpeg_upload(800, 600)))

    assert "pictures must be 2.0\xa0KB or smaller" in html


def test_a_picture_with_too_many_pixels_is_refused(admin_client, settings):
    settings.TREATMENT_IMAGE_MAX_PIXELS = 1_000_000

    html = refusal(upload(admin_client, TreatmentFactory(), jpeg_upload(2000, 1000)))

    assert "This picture is too large (2000 × 1000 pixels)" in html


def test_a_decompression_bomb_is_refused(admin_client, monkeypatch):
    # Pillow's own guard: lower its limit so a modest test picture counts as a bomb.
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 10_000)

    html = refusal(upload(admin_client, TreatmentFactory(), jpeg_upload(300, 300)))

    assert "This picture is too large" in html


def test_deleting_a_picture_in_the_admin_removes_its_files(
    admin_client, django_capture_on_commit_callbacks, media_root
):
    treatment = TreatmentFactory()
    with django_capture_on_commit_callbacks(execute=True):
        upload(admin_client, treatment, jpeg_upload(1000, 500))
    files = [p for p in media_root.rglob("*") if p.is_file()]
    assert len(files) == 7  # the original, and WebP and JPEG at 480, 960 and 1000 pixels wide

    data = form_data(admin_client.get(change_url(treatment)).content.decode(), "treatment_form")
    with django_capture_on_commit_callbacks(execute=True):
        data.update({"images-0-DELETE": "on", "_save": "Save"})
        response = admin_client.post(change_url(treatment), data)

    assert response.status_code == 302
    assert not ImageRendition.objects.exists()
    assert not [p for p in media_root.rglob("*") if p.is_file()]
