"""Photos: cleaned of every metadata field, bounded, and bad files politely refused."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from dialogues.events import ChoiceEvent
from dialogues.service import IncomingPhoto
from storage.photos import MAX_SIDE, PhotoRejected, PhotoStore
from tests.images import GPS_IFD, HTML_AS_JPG, PDF, image_bytes, jpeg_with_gps, pixel_bomb


def test_source_picture_really_has_gps() -> None:
    # The fixture must carry what we strip, or the next tests prove nothing.
    exif = Image.open(io.BytesIO(jpeg_with_gps())).getexif()
    assert exif.get_ifd(GPS_IFD)


def test_stored_photo_has_no_gps_and_is_upright(tmp_path) -> None:
    store = PhotoStore(tmp_path)
    stored = store.ingest(jpeg_with_gps(size=(300, 200), orientation=6))
    with Image.open(store.path_of(stored)) as im:
        assert not im.getexif()  # no EXIF at all: no GPS, no maker, no orientation
        assert "exif" not in im.info and "xmp" not in im.info
        # Orientation 6 (rotate 90°) applied: the 300×200 picture now stands 200×300.
        assert im.size == (200, 300) == (stored.width, stored.height)
    assert stored.content_type == "image/jpeg"
    assert stored.path.startswith(stored.sha256[:2] + "/")


def test_large_photo_is_shrunk_and_same_photo_stored_once(tmp_path) -> None:
    store = PhotoStore(tmp_path)
    first = store.ingest(image_bytes("PNG", size=(4000, 1000)))
    second = store.ingest(image_bytes("PNG", size=(4000, 1000)))
    assert max(first.width, first.height) == MAX_SIDE
    assert first == second
    assert len(list(tmp_path.rglob("*.png"))) == 1


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (PDF, "not_an_image"),
        (HTML_AS_JPG, "not_an_image"),
        (jpeg_with_gps()[:400], "corrupt"),
        (pixel_bomb(), "too_many_pixels"),
        (b"\xff" * (10 * 1024 * 1024 + 1), "too_large"),
        (image_bytes("GIF"), "not_an_image"),
        (b"", "not_an_image"),
    ],
    ids=[
        "pdf",
        "html-named-jpg",
        "truncated-jpeg",
        "50-megapixel-bomb",
        "over-10-MB",
        "gif",
        "empty",
    ],
)
def test_bad_files_are_refused_with_a_reason(tmp_path, data: bytes, reason: str) -> None:
    with pytest.raises(PhotoRejected) as caught:
        PhotoStore(tmp_path).ingest(data)
    assert caught.value.reason == reason
    assert not list(tmp_path.rglob("*.*"))


async def test_photo_in_a_conversation_is_saved_with_the_alert(bot) -> None:
    await bot.send("colis Chronopost arrivé écrasé à Nantes")
    out = await bot.send(IncomingPhoto(jpeg_with_gps()))
    assert "Photo ajoutée (1/3)" in out.replies[0].text
    await bot.send("hier")  # since when
    await bot.send("non")  # customer service
    assert (await bot.send(IncomingPhoto(image_bytes("WEBP")))).expecting == "confirmation"
    out = await bot.send(ChoiceEvent("confirm:send"))
    photos = out.alert["photos"]
    assert [p["content_type"] for p in photos] == ["image/jpeg", "image/webp"]
    for photo in photos:
        with Image.open(bot.photos.root / photo["path"]) as im:
            assert not im.getexif().get_ifd(GPS_IFD)
            assert (im.width, im.height) == (photo["width"], photo["height"])


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (PDF, "JPEG, PNG ou WEBP"),
        (jpeg_with_gps()[:400], "abîmée"),
        (pixel_bomb(), "trop grande"),
        (HTML_AS_JPG, "n'est pas une photo"),
    ],
    ids=["pdf", "truncated", "bomb", "html"],
)
async def test_bad_file_mid_conversation_loses_nothing(bot, data: bytes, words: str) -> None:
    await bot.send("Free me prélève encore alors que j'ai résilié")
    out = await bot.send(IncomingPhoto(data, "photo.jpg"))
    said = " ".join(r.text for r in out.replies)
    assert words in said
    assert out.expecting == "sector"  # the same question again, nothing forgotten
    state = await bot.service.state_of("cli", "alice")
    assert state.draft.operator == "free" and state.draft.category == "billing"
    assert state.draft.photos == []


async def test_no_more_than_three_photos(bot) -> None:
    await bot.send("colis GLS endommagé")
    for size in ((10, 10), (11, 10), (12, 10)):
        await bot.send(IncomingPhoto(image_bytes("PNG", size=size)))
    out = await bot.send(IncomingPhoto(image_bytes("PNG", size=(13, 10))))
    assert "déjà joint 3 photos" in out.replies[0].text
    assert len((await bot.service.state_of("cli", "alice")).draft.photos) == 3


async def test_photo_first_then_the_problem(bot) -> None:
    out = await bot.send(IncomingPhoto(image_bytes("JPEG")))
    assert out.expecting == "description"
    out = await bot.send("le poteau téléphonique Orange est tombé devant chez moi")
    state = await bot.service.state_of("cli", "alice")
    assert len(state.draft.photos) == 1 and state.draft.operator == "orange"
