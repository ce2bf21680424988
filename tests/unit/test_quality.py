"""Quality checks on real JPEGs: what is flagged, with which value against which threshold."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from tdm_desktop.core.image_analysis import analyze_bytes, analyze_pixels
from tdm_desktop.core.pixels import (
    ANALYSIS_SIDE,
    NotAnImageError,
    analysis_image,
    decode_for_analysis,
)
from tdm_desktop.core.quality import (
    BLURRY,
    LOW_INFORMATION,
    NOT_AN_IMAGE,
    ODD_ASPECT,
    TOO_DARK,
    TOO_LIGHT,
    TOO_SMALL,
    QualityThresholds,
    measure_quality,
    quality_findings,
)
from tests.images import blurred, darkened, jpeg, lightened, picture

BIG = (1024, 1024)


def checks(data: bytes, thresholds: QualityThresholds | None = None) -> set[str]:
    return {finding.check for finding in analyze_bytes("x.jpg", data).findings(thresholds)}


def test_a_sharp_1024_picture_has_no_problem():
    assert checks(jpeg(picture(1, BIG))) == set()


def test_a_blurred_copy_is_flagged_and_its_sharp_original_is_not():
    original = picture(2, BIG)
    sharp = analyze_bytes("sharp.jpg", jpeg(original))
    blurry = analyze_bytes("blurry.jpg", jpeg(blurred(original, 4)))

    assert BLURRY not in {f.check for f in sharp.findings()}
    finding = next(f for f in blurry.findings() if f.check == BLURRY)
    assert finding.threshold == QualityThresholds().min_sharpness
    assert finding.value == pytest.approx(blurry.measures.sharpness)
    assert finding.value < finding.threshold < sharp.measures.sharpness
    assert finding.message.startswith("blurry: sharpness ")
    assert finding.message.endswith(f" < {finding.threshold:.0f}")


def test_too_dark_and_too_light_say_the_measured_brightness():
    original = picture(3, BIG)
    dark = analyze_bytes("dark.jpg", jpeg(darkened(original, 0.15)))
    light = analyze_bytes("light.jpg", jpeg(lightened(original, 0.9)))

    dark_finding = next(f for f in dark.findings() if f.check == TOO_DARK)
    assert dark_finding.value == pytest.approx(dark.measures.brightness) and dark_finding.value < 40
    assert TOO_LIGHT in {f.check for f in light.findings()}
    assert TOO_DARK not in {f.check for f in light.findings()}
    assert light.measures.brightness > 215


def test_a_flat_image_is_low_information():
    flat = Image.new("RGB", BIG, (120, 130, 140))
    found = {f.check: f for f in analyze_bytes("flat.jpg", jpeg(flat)).findings()}
    assert LOW_INFORMATION in found
    assert found[LOW_INFORMATION].value < 1
    assert found[LOW_INFORMATION].message.startswith("low information: entropy 0.")


def test_smaller_than_the_training_resolution_names_the_short_side():
    data = jpeg(picture(4, (768, 1024)))
    found = {f.check: f for f in analyze_bytes("small.jpg", data).findings()}
    assert set(found) == {TOO_SMALL}
    assert (found[TOO_SMALL].value, found[TOO_SMALL].threshold) == (768, 1024)
    assert found[TOO_SMALL].message == "too small: short side 768 px < 1024"
    assert checks(data, QualityThresholds(training_resolution=768)) == set()


def test_an_odd_aspect_ratio_is_flagged_and_a_portrait_is_not():
    wide = {
        f.check: f for f in analyze_bytes("wide.jpg", jpeg(picture(5, (2560, 1024)))).findings()
    }
    assert set(wide) == {ODD_ASPECT}
    assert wide[ODD_ASPECT].value == pytest.approx(2.5)
    assert wide[ODD_ASPECT].message == "odd aspect ratio: 2.50:1 > 2.00:1"
    assert ODD_ASPECT not in checks(jpeg(picture(5, (1024, 1536))))


def test_bytes_that_are_not_an_image_are_a_finding_not_an_error():
    for data in (b"", b"hello, not an image", jpeg(picture(6))[:300]):
        analysis = analyze_bytes("broken.jpg", data)
        assert analysis.measures is None and analysis.phash is None
        assert [f.check for f in analysis.findings()] == [NOT_AN_IMAGE]
        assert analysis.problems()[0].startswith("not an image: ")


def test_jpeg_is_decoded_at_reduced_scale_to_the_analysis_size():
    image = decode_for_analysis(jpeg(picture(7, (1024, 768))))
    assert (image.width, image.height) == (1024, 768)
    assert image.gray.shape == (192, ANALYSIS_SIDE) and image.gray.dtype == np.uint8


def test_the_exif_orientation_is_applied():
    out = io.BytesIO()
    exif = Image.Exif()
    exif[0x0112] = 6  # rotated 90°: shown as 768 wide, 1024 high
    picture(8, (1024, 768)).save(out, "JPEG", exif=exif)
    image = decode_for_analysis(out.getvalue())
    assert (image.width, image.height) == (768, 1024)
    assert image.gray.shape == (ANALYSIS_SIDE, 192)


def test_pixels_a_decoder_already_has_give_the_same_answer_as_the_bytes():
    """The window's decode workers pass the grayscale pixels they have (any size >= 256)."""
    data = jpeg(picture(9, BIG))
    from_bytes = analyze_bytes("a.jpg", data)
    full = Image.open(io.BytesIO(data)).convert("L")
    gray = np.asarray(full.resize((512, 512), Image.Resampling.BOX))
    from_pixels = analyze_pixels("a.jpg", analysis_image(gray, 1024, 1024))

    assert from_pixels.measures.brightness == pytest.approx(from_bytes.measures.brightness, abs=1)
    assert from_pixels.measures.sharpness == pytest.approx(from_bytes.measures.sharpness, rel=0.25)
    assert (from_pixels.phash ^ from_bytes.phash).bit_count() <= 4


def test_analysis_image_refuses_what_is_not_grayscale():
    with pytest.raises(ValueError, match="2-D uint8"):
        analysis_image(np.zeros((10, 10, 3), dtype=np.uint8), 10, 10)
    with pytest.raises(NotAnImageError):
        decode_for_analysis(b"GIF89a")


def test_thresholds_can_change_without_measuring_again():
    measures = measure_quality(decode_for_analysis(jpeg(picture(10, BIG))))
    assert quality_findings(measures) == []
    strict = QualityThresholds(min_sharpness=measures.sharpness + 1)
    assert [f.check for f in quality_findings(measures, strict)] == [BLURRY]
