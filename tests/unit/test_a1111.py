"""The AUTOMATIC1111 generator against a fake web UI API on 127.0.0.1."""

from __future__ import annotations

import base64
import io
import socket
from typing import Any

import pytest
import requests
from PIL import Image

from tdm_desktop.core.errors import BadInputError, GeneratorError
from tdm_desktop.generators import GenerationRequest
from tdm_desktop.generators.a1111 import A1111Generator
from tests.fake_a1111 import BASE_IMAGE, FakeA1111, fake_a1111, png_bytes

__all__ = ["fake_a1111"]  # the fixture, used by name


def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def generator_for(fake: FakeA1111, **kwargs: Any) -> A1111Generator:
    return A1111Generator(fake.url, **kwargs)


# ---- the happy paths --------------------------------------------------------------------------


def test_txt2img_sends_the_prompt_and_returns_the_png(fake_a1111):
    result = generator_for(fake_a1111).generate(
        GenerationRequest(prompt="a man in a coat", negative_prompt="blurry", seed=None)
    )
    (call,) = fake_a1111.calls
    assert call["path"] == "/sdapi/v1/txt2img"
    body = call["body"]
    assert body["prompt"] == "a man in a coat"
    assert body["negative_prompt"] == "blurry"
    assert body["seed"] == -1
    assert (body["width"], body["height"], body["steps"]) == (1024, 1024, 25)
    assert "init_images" not in body and "sampler_name" not in body
    assert result.image_bytes == fake_a1111.image
    assert result.mime == "image/png"
    assert (result.width, result.height) == (64, 48)
    assert result.seed == 1234
    assert result.info["generator"] == "a1111"
    assert result.info["placeholder"] is False


def test_img2img_sends_the_base_image_and_strength(fake_a1111):
    generator = generator_for(fake_a1111, steps=30, sampler_name="DPM++ 2M")
    generator.generate(
        GenerationRequest(prompt="p", seed=99, base_image=BASE_IMAGE, denoising_strength=0.4)
    )
    (call,) = fake_a1111.calls
    assert call["path"] == "/sdapi/v1/img2img"
    body = call["body"]
    assert base64.b64decode(body["init_images"][0]) == BASE_IMAGE
    assert body["denoising_strength"] == 0.4
    assert (body["seed"], body["steps"], body["sampler_name"]) == (99, 30, "DPM++ 2M")


def test_data_url_prefix_is_stripped(fake_a1111):
    fake_a1111.mode = "data_url"
    result = generator_for(fake_a1111).generate(GenerationRequest(prompt="p", seed=5))
    assert result.image_bytes == fake_a1111.image


def test_without_info_the_requested_seed_is_reported(fake_a1111):
    fake_a1111.mode = "no_info"
    result = generator_for(fake_a1111).generate(GenerationRequest(prompt="p", seed=77))
    assert result.seed == 77


def test_jpeg_answer_is_kept_as_jpeg(fake_a1111):
    out = io.BytesIO()
    Image.new("RGB", (40, 30), "navy").save(out, "JPEG")
    fake_a1111.image = out.getvalue()
    result = generator_for(fake_a1111).generate(GenerationRequest(prompt="p", seed=1))
    assert (result.mime, result.image_bytes) == ("image/jpeg", fake_a1111.image)


def test_webp_answer_becomes_png(fake_a1111):
    out = io.BytesIO()
    Image.new("RGB", (20, 10), "red").save(out, "WEBP")
    fake_a1111.image = out.getvalue()
    result = generator_for(fake_a1111).generate(GenerationRequest(prompt="p", seed=1))
    assert result.mime == "image/png"
    assert Image.open(io.BytesIO(result.image_bytes)).size == (20, 10)


def test_settings_and_basic_auth_come_from_env(fake_a1111):
    env = {
        "TDM_A1111_URL": fake_a1111.url + "/",
        "TDM_A1111_USER": "curator",
        "TDM_A1111_PASSWORD": "s3cret",
        "TDM_A1111_STEPS": "12",
        "TDM_A1111_TIMEOUT": "42",
    }
    generator = A1111Generator.from_env(env)
    assert generator.timeout == (5.0, 42.0)
    generator.generate(GenerationRequest(prompt="p", seed=1))
    (call,) = fake_a1111.calls
    expected = "Basic " + base64.b64encode(b"curator:s3cret").decode()
    assert call["headers"]["Authorization"] == expected
    assert call["body"]["steps"] == 12


def test_injected_session_is_used(fake_a1111):
    session = requests.Session()
    session.headers["X-Team"] = "tdm"
    A1111Generator(fake_a1111.url, session=session).generate(GenerationRequest(prompt="p"))
    assert fake_a1111.calls[0]["headers"]["X-Team"] == "tdm"


def test_default_url_and_timeouts():
    generator = A1111Generator.from_env({})
    assert generator.base_url == "http://127.0.0.1:7860"
    assert generator.timeout == (5.0, 300.0)


@pytest.mark.parametrize(
    ("env", "needle"),
    [
        ({"TDM_A1111_URL": "ftp://host"}, "AUTOMATIC1111 URL"),
        ({"TDM_A1111_STEPS": "many"}, "TDM_A1111_STEPS"),
        ({"TDM_A1111_TIMEOUT": "-1"}, "TDM_A1111_TIMEOUT"),
    ],
)
def test_bad_settings_are_bad_input(env, needle):
    with pytest.raises(BadInputError, match=needle):
        A1111Generator.from_env(env)


# ---- failures: one clear line each ------------------------------------------------------------


def failure(generator: A1111Generator, request: GenerationRequest | None = None) -> str:
    with pytest.raises(GeneratorError) as info:
        generator.generate(request or GenerationRequest(prompt="p", seed=1))
    message = str(info.value)
    assert "\n" not in message
    return message


def test_server_error_500(fake_a1111):
    fake_a1111.mode = "500"
    message = failure(generator_for(fake_a1111))
    assert fake_a1111.url in message
    assert "HTTP 500" in message and "CUDA out of memory" in message


def test_validation_error_422_names_the_field(fake_a1111):
    fake_a1111.mode = "422"
    message = failure(generator_for(fake_a1111))
    assert "HTTP 422" in message
    assert "body.width: value is not a valid integer" in message


def test_unauthorised_points_at_the_credentials(fake_a1111):
    fake_a1111.mode = "401"
    message = failure(generator_for(fake_a1111))
    assert "HTTP 401" in message and "TDM_A1111_USER" in message


def test_unreachable_server():
    url = closed_port_url()
    message = failure(A1111Generator(url))
    assert message == f"cannot reach AUTOMATIC1111 at {url}: connection refused"


def test_slow_server_times_out(fake_a1111):
    fake_a1111.mode = "slow"
    message = failure(generator_for(fake_a1111, read_timeout=0.2))
    assert "did not answer txt2img within 0.2 s" in message


def test_malformed_base64(fake_a1111):
    fake_a1111.mode = "bad_base64"
    assert "malformed base64" in failure(generator_for(fake_a1111))


def test_answer_that_is_not_an_image(fake_a1111):
    fake_a1111.mode = "not_image"
    assert "is not an image" in failure(generator_for(fake_a1111))


def test_truncated_png_is_not_an_image(fake_a1111):
    fake_a1111.image = png_bytes()[:40]
    assert "is not an image" in failure(generator_for(fake_a1111))


def test_answer_without_images(fake_a1111):
    fake_a1111.mode = "no_images"
    assert "has no images" in failure(generator_for(fake_a1111))


def test_answer_that_is_not_json(fake_a1111):
    fake_a1111.mode = "not_json"
    assert "not JSON" in failure(generator_for(fake_a1111))


def test_password_in_url_never_shows_in_messages():
    url = closed_port_url().replace("http://", "http://user:hunter2@")
    message = failure(A1111Generator(url))
    assert "hunter2" not in message and "connection refused" in message
