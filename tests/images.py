"""Real pictures for the review tests: textured JPEGs, and blurred, darkened, resized, cropped
copies of them, uploaded to (moto or SeaweedFS) S3 and listed in a real manifest."""

from __future__ import annotations

import io
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path

from PIL import Image, ImageEnhance, ImageFilter

from tdm_desktop.core.generator import GenerationRequest
from tdm_desktop.core.manifest import TrainingDataManifest, size_mb
from tdm_desktop.core.s3_store import S3Store
from tdm_desktop.generators.placeholder import PlaceholderGenerator

ACTOR_ID = "0042"
ACTOR = "0042_european_30_male"


@lru_cache(maxsize=64)
def picture(seed: int, size: tuple[int, int] = (512, 512)) -> Image.Image:
    """A detailed picture (shapes, gradients, grain, text) that depends on ``seed``."""
    result = PlaceholderGenerator().generate(
        GenerationRequest(prompt=f"test picture {seed}", seed=seed, width=size[0], height=size[1])
    )
    return Image.open(io.BytesIO(result.image_bytes)).convert("RGB")


def jpeg(image: Image.Image, quality: int = 90) -> bytes:
    out = io.BytesIO()
    image.convert("RGB").save(out, "JPEG", quality=quality)
    return out.getvalue()


def blurred(image: Image.Image, radius: float = 4) -> Image.Image:
    return image.filter(ImageFilter.GaussianBlur(radius))


def darkened(image: Image.Image, factor: float = 0.15) -> Image.Image:
    return ImageEnhance.Brightness(image).enhance(factor)


def lightened(image: Image.Image, share: float = 0.9) -> Image.Image:
    return Image.blend(image, Image.new("RGB", image.size, "white"), share)


def resized(image: Image.Image, scale: float) -> Image.Image:
    width, height = image.size
    return image.resize((round(width * scale), round(height * scale)), Image.Resampling.LANCZOS)


def cropped(image: Image.Image, share: float) -> Image.Image:
    """``share`` of the width and height cut off, half on each side."""
    width, height = image.size
    dx, dy = round(width * share / 2), round(height * share / 2)
    return image.crop((dx, dy, width - dx, height - dy))


def upload_actor(
    data_dir: Path,
    store: S3Store,
    images: Mapping[str, bytes],
    actor_id: str = ACTOR_ID,
    actor_name: str = ACTOR,
) -> list[str]:
    """An actor whose images are ``{filename: bytes}``, uploaded and listed in that order."""
    manifest = TrainingDataManifest.for_actor(data_dir, actor_id)
    manifest.create(actor_id, actor_name)
    for filename, data in images.items():
        key = store.key_for(actor_name, filename)
        store.put_new(key, data, "image/png" if filename.endswith(".png") else "image/jpeg")
        manifest.add_image(filename, store.aws_url_for(key), size_mb(len(data)))
    return list(images)


def objects_under(client, bucket: str, prefix: str) -> dict[str, bytes]:
    """``{key relative to prefix: bytes}`` of every object under ``prefix/``."""
    listing = client.list_objects_v2(Bucket=bucket, Prefix=prefix + "/").get("Contents", [])
    return {
        item["Key"][len(prefix) + 1 :]: client.get_object(Bucket=bucket, Key=item["Key"])[
            "Body"
        ].read()
        for item in listing
    }
