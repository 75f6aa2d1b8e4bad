import io
import re
import struct

import pytest
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import ExifTags, Image, ImageCms, ImageDraw, features

from schools import images
from schools.images import process_avatar

RED = (220, 30, 30)
GREEN = (30, 180, 60)
BLUE = (30, 60, 220)
WHITE = (255, 255, 255)


def encode(image: Image.Image, fmt: str = "JPEG", **params) -> bytes:
    out = io.BytesIO()
    image.save(out, format=fmt, **params)
    return out.getvalue()


def upload(data: bytes, name: str = "foto.jpg", content_type: str = "image/jpeg"):
    return SimpleUploadedFile(name, data, content_type=content_type)


def halves(size: tuple[int, int], left=RED, right=BLUE, mode: str = "RGB") -> Image.Image:
    """An image whose left half is ``left`` and whose right half is ``right``."""
    image = Image.new(mode, size, left)
    ImageDraw.Draw(image).rectangle((size[0] // 2, 0, size[0], size[1]), fill=right)
    return image


def noise(size: tuple[int, int] = (400, 400)) -> Image.Image:
    return Image.effect_noise(size, 80).convert("RGB")


def opened(result: ContentFile) -> Image.Image:
    result.seek(0)
    image = Image.open(io.BytesIO(result.read()))
    image.load()
    return image


def near(pixel, expected, tolerance: int = 40) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(pixel, expected, strict=True))


def refusal(upload_file) -> ValidationError:
    with pytest.raises(ValidationError) as caught:
        process_avatar(upload_file)
    return caught.value


def exif_with_gps_and_orientation(orientation: int) -> Image.Exif:
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = orientation
    exif[ExifTags.Base.Make] = "Telefoon van juf"
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (52.0, 5.0, 30.0)
    gps[ExifTags.GPS.GPSLongitudeRef] = "E"
    gps[ExifTags.GPS.GPSLongitude] = (4.0, 53.0, 10.0)
    return exif


def photo_with_metadata(image: Image.Image, orientation: int = 1) -> bytes:
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    return encode(
        image,
        exif=exif_with_gps_and_orientation(orientation).tobytes(),
        icc_profile=srgb,
        comment=b"Zoe groep 3",
    )


# --- what comes out ---------------------------------------------------------------------


def test_it_turns_a_photo_into_a_square_jpeg_without_any_metadata():
    data = photo_with_metadata(noise((640, 480)))
    source = Image.open(io.BytesIO(data))
    assert source.getexif().get_ifd(ExifTags.IFD.GPSInfo)  # the input really has GPS
    assert "icc_profile" in source.info
    assert "comment" in source.info

    result = process_avatar(upload(data))
    image = opened(result)

    assert image.format == "JPEG"
    assert image.size == (images.SIZE, images.SIZE) == (320, 320)
    assert image.mode == "RGB"
    assert len(image.getexif()) == 0
    for key in ("exif", "icc_profile", "comment"):
        assert key not in image.info
    result.seek(0)
    raw = result.read()
    for marker in (b"Exif", b"ICC_PROFILE", b"Zoe groep 3", b"Telefoon"):
        assert marker not in raw


def test_it_applies_the_exif_orientation():
    # Stored landscape: red left, blue right. Orientation 6 means "rotate 90 degrees
    # clockwise to display", so upright it is portrait with red on top.
    data = photo_with_metadata(halves((400, 200)), orientation=6)

    image = opened(process_avatar(upload(data)))

    assert near(image.getpixel((280, 40)), RED)
    assert near(image.getpixel((40, 40)), RED)
    assert near(image.getpixel((40, 280)), BLUE)
    assert near(image.getpixel((280, 280)), BLUE)


def test_it_keeps_an_unrotated_photo_as_it_is():
    # The control for the test above: without orientation red stays on the left.
    data = photo_with_metadata(halves((400, 200)), orientation=1)

    image = opened(process_avatar(upload(data)))

    assert near(image.getpixel((40, 40)), RED)
    assert near(image.getpixel((280, 40)), BLUE)


def test_it_crops_the_centre_of_the_photo():
    image = Image.new("RGB", (600, 200), RED)
    ImageDraw.Draw(image).rectangle((200, 0, 399, 199), fill=GREEN)
    ImageDraw.Draw(image).rectangle((400, 0, 599, 199), fill=BLUE)

    result = opened(process_avatar(upload(encode(image))))

    for corner in ((5, 5), (314, 5), (5, 314), (314, 314), (160, 160)):
        assert near(result.getpixel(corner), GREEN), corner


def test_it_handles_a_large_jpeg():
    result = opened(process_avatar(upload(encode(halves((3000, 2000)), quality=70))))

    assert result.size == (320, 320)
    assert near(result.getpixel((20, 160)), RED)
    assert near(result.getpixel((300, 160)), BLUE)


def test_it_flattens_a_transparent_png_onto_white():
    data = encode(halves((200, 200), left=(0, 0, 0, 0), right=(*BLUE, 255), mode="RGBA"), "PNG")

    image = opened(process_avatar(upload(data, "foto.png", "image/png")))

    assert image.format == "JPEG"
    assert image.mode == "RGB"
    assert near(image.getpixel((40, 160)), WHITE, 10)
    assert near(image.getpixel((280, 160)), BLUE)


def test_it_takes_the_first_frame_of_an_animated_gif():
    frames = [Image.new("RGB", (100, 100), RED), Image.new("RGB", (100, 100), BLUE)]
    data = encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100)

    image = opened(process_avatar(upload(data, "foto.gif", "image/gif")))

    assert near(image.getpixel((160, 160)), RED)


def test_it_takes_the_first_picture_of_a_multi_picture_phone_jpeg():
    first, second = Image.new("RGB", (200, 100), RED), Image.new("RGB", (200, 100), BLUE)
    data = encode(first, "MPO", save_all=True, append_images=[second])

    image = opened(process_avatar(upload(data)))

    assert near(image.getpixel((160, 160)), RED)


@pytest.mark.skipif(not features.check("webp"), reason="Pillow built without WebP")
def test_it_accepts_webp():
    data = encode(Image.new("RGB", (100, 100), GREEN), "WEBP")

    image = opened(process_avatar(upload(data, "foto.webp", "image/webp")))

    assert image.size == (320, 320)
    assert near(image.getpixel((160, 160)), GREEN)


def test_it_scales_a_16_bit_grey_png_instead_of_clipping_it():
    grey = Image.new("I;16", (100, 100))
    grey.putdata([32768] * (100 * 100))

    image = opened(process_avatar(upload(encode(grey, "PNG"), "foto.png", "image/png")))

    assert near(image.getpixel((160, 160)), (128, 128, 128), 10)


def test_it_gives_a_random_jpg_name_never_the_uploaded_one():
    data = encode(noise((200, 200)))

    first = process_avatar(upload(data, "zoe-de-vries.jpg"))
    second = process_avatar(upload(data, "zoe-de-vries.jpg"))

    assert re.fullmatch(r"[0-9a-f]{32}\.jpg", first.name)
    assert "zoe" not in first.name
    assert first.name != second.name


def test_it_accepts_a_plain_file_object_without_size():
    stream = io.BytesIO(encode(noise((100, 100))))
    stream.read(10)  # a stream left part-read is read again from the start

    image = opened(process_avatar(stream))

    assert image.size == (320, 320)


# --- refusals -------------------------------------------------------------------------------


def test_it_refuses_a_text_file_renamed_to_jpg():
    error = refusal(upload(b"Dit is geen foto, maar een boodschappenlijstje.\n" * 20))

    assert error.code == "not_an_image"
    assert "geen foto" in str(error.messages[0])


def test_it_refuses_an_empty_file():
    assert refusal(upload(b"")).code == "not_an_image"


def test_it_refuses_a_truncated_jpeg():
    data = encode(noise((400, 400)))

    error = refusal(upload(data[: len(data) // 2]))

    assert error.code == "not_an_image"


def test_it_refuses_an_svg():
    svg = (
        b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="200" '
        b'height="200"><script>alert(1)</script><rect width="200" height="200"/></svg>'
    )

    assert refusal(upload(svg, "foto.svg", "image/svg+xml")).code == "not_an_image"


def test_it_refuses_a_format_outside_the_list():
    data = encode(Image.new("RGB", (100, 100), RED), "BMP")

    assert refusal(upload(data, "foto.bmp", "image/bmp")).code == "not_an_image"


def test_it_refuses_a_png_that_fails_verification():
    # Only the IDAT checksum is wrong: decoding would succeed, verify() must refuse it.
    data = bytearray(encode(noise((100, 100)), "PNG"))
    idat = data.index(b"IDAT")
    (length,) = struct.unpack(">I", data[idat - 4 : idat])
    crc = idat + 4 + length
    data[crc : crc + 4] = bytes(byte ^ 0xFF for byte in data[crc : crc + 4])

    assert refusal(upload(bytes(data), "foto.png", "image/png")).code == "not_an_image"


def test_it_refuses_a_file_that_says_it_is_too_large_before_reading_it():
    big = upload(b"x")
    big.size = images.MAX_UPLOAD_BYTES + 1

    error = refusal(big)

    assert error.code == "too_large"
    assert "8 MB" in str(error.messages[0])


def test_it_refuses_too_many_bytes(monkeypatch):
    data = encode(noise((200, 200)))
    monkeypatch.setattr(images, "MAX_UPLOAD_BYTES", len(data) - 1)

    assert refusal(upload(data)).code == "too_large"


def test_it_refuses_too_many_bytes_even_without_or_with_a_wrong_size(monkeypatch):
    data = encode(noise((200, 200)))
    monkeypatch.setattr(images, "MAX_UPLOAD_BYTES", 1000)

    class CountingStream(io.BytesIO):
        size = 10  # lies
        bytes_read = 0

        def read(self, n=-1):
            chunk = super().read(n)
            self.bytes_read += len(chunk)
            return chunk

    stream = CountingStream(data)
    assert refusal(stream).code == "too_large"
    assert stream.bytes_read <= 1001
    assert refusal(io.BytesIO(data)).code == "too_large"


def test_it_accepts_a_file_of_exactly_the_maximum_size(monkeypatch):
    data = encode(noise((200, 200)))
    monkeypatch.setattr(images, "MAX_UPLOAD_BYTES", len(data))

    assert opened(process_avatar(upload(data))).size == (320, 320)


def test_it_refuses_too_many_pixels_from_the_header(monkeypatch):
    monkeypatch.setattr(images, "MAX_PIXELS", 100 * 100 - 1)

    error = refusal(upload(encode(Image.new("RGB", (100, 100), RED))))

    assert error.code == "too_many_pixels"


def test_it_accepts_exactly_the_maximum_number_of_pixels(monkeypatch):
    monkeypatch.setattr(images, "MAX_PIXELS", 100 * 100)

    image = opened(process_avatar(upload(encode(Image.new("RGB", (100, 100), RED)))))

    assert image.size == (320, 320)


@pytest.mark.parametrize("pillow_limit", [3000, 1000], ids=["bomb-warning", "bomb-error"])
def test_it_counts_pillows_decompression_bomb_check_as_too_many_pixels(monkeypatch, pillow_limit):
    # 64x64 = 4096 pixels: above 3000 Pillow warns, above 2 x 1000 it raises.
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", pillow_limit)

    error = refusal(upload(encode(Image.new("RGB", (64, 64), RED), "PNG"), "foto.png"))

    assert error.code == "too_many_pixels"


@pytest.mark.parametrize("size", [(10, 10), (63, 400), (400, 63)])
def test_it_refuses_a_tiny_image(size):
    error = refusal(upload(encode(Image.new("RGB", size, RED), "PNG"), "foto.png"))

    assert error.code == "too_small"
    assert "64 bij 64" in str(error.messages[0])


def test_it_accepts_the_smallest_allowed_image():
    image = opened(process_avatar(upload(encode(Image.new("RGB", (64, 64), RED), "PNG"))))

    assert image.size == (320, 320)
