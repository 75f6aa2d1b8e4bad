"""A pupil's photo: whatever is uploaded, the answer is a clean square JPEG or a form error."""

from __future__ import annotations

import io
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from hypothesis import example, given
from PIL import Image

from schools.images import SIZE, process_avatar
from schools.models import Pupil
from tests.fuzz import strategies as fuzzed
from tests.fuzz.support import (
    changed_counts,
    logged_in,
    no_server_error,
    row,
    row_counts,
    with_fixtures,
)
from tests.helpers import change_url, saved

REFUSALS = {"too_large", "too_many_pixels", "not_an_image", "too_small"}


def files_in(folder: Path) -> set[Path]:
    return {path for path in folder.rglob("*") if path.is_file()} if folder.exists() else set()


def is_clean_tile(data: bytes) -> bool:
    image = Image.open(io.BytesIO(data))
    image.load()
    return (
        image.format == "JPEG"
        and image.size == (SIZE, SIZE)
        and image.mode == "RGB"
        and not image.getexif()
        and not {"exif", "icc_profile", "comment"} & set(image.info)
    )


@with_fixtures
@given(data=fuzzed.image_files())
@example(data=fuzzed.SVG_WITH_SCRIPT)
@example(data=fuzzed.png_claiming(100_000, 100_000))
@example(data=b"\xff" * (8 * 1024 * 1024 + 1))
def test_process_avatar_answers_a_tile_or_a_refusal(fuzz, data):
    with fuzz.example(database=False):
        try:
            result = process_avatar(SimpleUploadedFile("foto.jpg", data))
        except ValidationError as refusal:
            fuzz.note(refusal.code)
            assert refusal.code in REFUSALS, refusal.code
            return
        fuzz.note("accepted")
        result.seek(0)
        assert is_clean_tile(result.read())


@with_fixtures
@given(data=fuzzed.bombs())
def test_a_decompression_bomb_is_never_decoded(fuzz, data):
    with fuzz.example(database=False):
        try:
            process_avatar(SimpleUploadedFile("foto.png", data))
        except ValidationError as refusal:
            fuzz.note(refusal.code)
            assert refusal.code in REFUSALS, refusal.code
        else:
            raise AssertionError("a bomb was accepted")


@with_fixtures
@example(data=fuzzed.SVG_WITH_SCRIPT, name="foto.svg")
@example(data=fuzzed.png_claiming(20_000, 20_000), name="foto.png")
@example(data=b"", name="leeg.jpg")
@given(data=fuzzed.image_files(), name=fuzzed.file_names())
def test_teacher_uploads_a_photo(cast, fuzz, data, name):
    # Whatever the browser calls it, "foto.jpg" at the end keeps it a file (a name that is
    # only slashes or control characters makes Django drop the file, as if none was chosen).
    name = f"{name}foto.jpg"
    pupil = cast.emma
    media = Path(settings.MEDIA_ROOT)
    posted = {
        "first_name": pupil.first_name,
        "last_name": pupil.last_name,
        "group": str(pupil.group_id),
        "login_method": pupil.login_method,
        "home_login_enabled": "on",
        "parent_email_1": "ouder.a@example.com",
        "avatar": SimpleUploadedFile(name, data, content_type="image/jpeg"),
    }
    with fuzz.example():
        client = logged_in(cast.teacher_x)
        before, was, files = row_counts(), row(pupil), files_in(media)
        response = client.post(change_url(pupil), posted)
        no_server_error(response)
        if response.status_code == 400:  # e.g. a file name longer than a header may be
            fuzz.note("bad request")
            assert changed_counts(before) == {}
            assert row(pupil) == was
            assert files_in(media) == files
            return
        if not saved(response):
            fuzz.note("refused")
            errors = response.context["adminform"].form.errors
            assert set(errors) == {"avatar"}, errors
            assert changed_counts(before) == {}
            assert row(pupil) == was
            assert files_in(media) == files
            return
        fuzz.note("accepted")
        assert changed_counts(before) == {"admin.LogEntry": 1}
        stored = Pupil.objects.get(pk=pupil.pk).avatar
        (new_file,) = files_in(media) - files
        assert new_file == Path(stored.path)
        assert new_file.suffix == ".jpg" and name not in new_file.name
        assert is_clean_tile(new_file.read_bytes())
        # The photo is served as the JPEG it now is, to those who may see the pupil.
        shown = client.get(f"/leerling/{pupil.code}/foto")
        assert shown.status_code == 200 and shown["Content-Type"] == "image/jpeg"
