"""The generator registry and the offline placeholder generator."""

from __future__ import annotations

import io
import subprocess
import sys

import pytest
from PIL import Image

from tdm_desktop.core.errors import BadInputError, GeneratorError
from tdm_desktop.generators import (
    GenerationRequest,
    Generator,
    available_generators,
    get_generator,
)
from tdm_desktop.generators.a1111 import A1111Generator
from tdm_desktop.generators.placeholder import PlaceholderGenerator, seed_from_prompt

PROMPT = "portrait of 0042_european_30_male, studio light, grey wool coat, looking at the camera"


@pytest.fixture(scope="module")
def placeholder() -> PlaceholderGenerator:
    return PlaceholderGenerator()


@pytest.fixture(scope="module")
def first_image(placeholder):
    return placeholder.generate(GenerationRequest(prompt=PROMPT, seed=7))


def decode(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


# ---- registry ---------------------------------------------------------------------------------


def test_default_generator_is_the_placeholder():
    generator = get_generator(None, env={})
    assert generator.name == "placeholder"
    assert isinstance(generator, Generator)


def test_env_chooses_the_generator_and_the_option_wins_over_env():
    env = {"TDM_GENERATOR": "a1111", "TDM_A1111_URL": "http://127.0.0.1:9999"}
    from_env = get_generator(None, env=env)
    assert isinstance(from_env, A1111Generator)
    assert from_env.base_url == "http://127.0.0.1:9999"
    assert get_generator("placeholder", env=env).name == "placeholder"


def test_unknown_generator_names_the_known_ones():
    with pytest.raises(BadInputError) as info:
        get_generator("dalle", env={})
    message = str(info.value)
    assert "'dalle'" in message and "a1111" in message and "placeholder" in message
    assert "\n" not in message


def test_unknown_generator_from_env_says_where_it_came_from():
    with pytest.raises(BadInputError, match="TDM_GENERATOR"):
        get_generator(None, env={"TDM_GENERATOR": "midjourney"})


def test_available_generators():
    assert available_generators() == ["a1111", "placeholder"]


def test_generators_do_not_import_qt():
    code = (
        "import sys, tdm_desktop.generators.placeholder, tdm_desktop.generators.a1111;"
        "assert not any(m.startswith('PySide6') for m in sys.modules), 'Qt imported'"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


# ---- placeholder ------------------------------------------------------------------------------


def test_placeholder_is_a_1024_jpeg_of_realistic_size(first_image):
    assert first_image.image_bytes[:3] == b"\xff\xd8\xff"
    assert first_image.mime == "image/jpeg"
    image = decode(first_image.image_bytes)
    assert image.format == "JPEG"
    assert image.size == (1024, 1024) == (first_image.width, first_image.height)
    assert 100_000 <= len(first_image.image_bytes) <= 600_000


def test_placeholder_is_deterministic(placeholder, first_image):
    again = placeholder.generate(GenerationRequest(prompt=PROMPT, seed=7))
    assert again.image_bytes == first_image.image_bytes
    assert again.seed == 7


def test_placeholder_differs_with_prompt_and_seed(placeholder, first_image):
    other_prompt = placeholder.generate(GenerationRequest(prompt=PROMPT + ", smiling", seed=7))
    other_seed = placeholder.generate(GenerationRequest(prompt=PROMPT, seed=8))
    assert other_prompt.image_bytes != first_image.image_bytes
    assert other_seed.image_bytes != first_image.image_bytes
    assert other_seed.image_bytes != other_prompt.image_bytes


def test_placeholder_without_seed_derives_one_from_the_prompt(placeholder):
    one = placeholder.generate(GenerationRequest(prompt=PROMPT))
    two = placeholder.generate(GenerationRequest(prompt=PROMPT))
    assert one.seed == two.seed == seed_from_prompt(PROMPT)
    assert one.image_bytes == two.image_bytes
    assert seed_from_prompt("another prompt") != one.seed


def rgb_pixels(image: Image.Image) -> list[tuple[int, int, int]]:
    raw = image.convert("RGB").tobytes()
    return [tuple(raw[i : i + 3]) for i in range(0, len(raw), 3)]


def white_pixels_in_label_box(data: bytes) -> int:
    """Lettering: the label box darkens the background, so only text is near-white there."""
    image = decode(data)
    box = image.crop((0, int(image.height * 0.6), image.width, image.height))
    return sum(1 for r, g, b in rgb_pixels(box) if min(r, g, b) > 200)


def test_placeholder_says_it_is_a_placeholder(first_image):
    assert first_image.info["placeholder"] is True
    assert first_image.info["generator"] == "placeholder"
    assert "not a real generation" in first_image.info["note"]
    # The banner across the top is red with white lettering on it.
    pixels = rgb_pixels(decode(first_image.image_bytes).crop((0, 0, 1024, 60)))
    reddish = sum(1 for r, g, b in pixels if r > 150 and g < 80 and b < 80)
    whitish = sum(1 for r, g, b in pixels if min(r, g, b) > 200)
    assert reddish > len(pixels) * 0.6
    assert whitish > 500


def test_placeholder_label_grows_with_the_prompt_and_seed(placeholder):
    short = placeholder.generate(GenerationRequest(prompt="a", seed=1))
    wrapped = placeholder.generate(GenerationRequest(prompt=PROMPT * 3, seed=1))
    long_seed = placeholder.generate(GenerationRequest(prompt="a", seed=4_000_000_000))
    assert white_pixels_in_label_box(wrapped.image_bytes) > 4 * white_pixels_in_label_box(
        short.image_bytes
    )
    assert white_pixels_in_label_box(long_seed.image_bytes) > white_pixels_in_label_box(
        short.image_bytes
    )


def test_placeholder_wraps_a_long_prompt_and_honours_the_size(placeholder):
    result = placeholder.generate(
        GenerationRequest(prompt="word " * 400, seed=3, width=768, height=512)
    )
    assert decode(result.image_bytes).size == (768, 512)
    assert (result.width, result.height) == (768, 512)


def test_placeholder_rejects_an_absurd_size(placeholder):
    with pytest.raises(GeneratorError, match="100000x10"):
        placeholder.generate(GenerationRequest(prompt="x", seed=1, width=100_000, height=10))
