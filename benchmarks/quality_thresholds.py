"""Where the quality checks and the near-duplicate threshold should sit: measured, not guessed.

Takes a set of sharp 1024 px images (the demo's placeholder images, plus photographs from
``--photos DIR`` when given: every .jpg/.png there, scaled to 1024 on the long side), makes
blurred, darkened, lightened, flattened and near-duplicate copies of each, and prints for each
kind of copy the range of the measure its check uses, then the Hamming distances of the planted
near-duplicates (re-encode, 95 % resize, 2 % crop) against those between different images.

Run: ``.venv/bin/python benchmarks/quality_thresholds.py [--photos DIR] [--demo 12]``.
The last line is one JSON object with every figure.
"""

from __future__ import annotations

import argparse
import io
import itertools
import json
import statistics
import sys
from pathlib import Path

from PIL import Image, ImageEnhance, ImageFilter, ImageStat

from tdm_desktop.core.generator import GenerationRequest
from tdm_desktop.core.near_duplicates import hamming_distance, perceptual_hash
from tdm_desktop.core.pixels import decode_for_analysis
from tdm_desktop.core.quality import (
    CHECKS,
    QualityMeasures,
    QualityThresholds,
    measure_quality,
    quality_findings,
)
from tdm_desktop.generators.placeholder import PlaceholderGenerator

SIDE = 1024


def jpeg(image: Image.Image, quality: int = 90) -> bytes:
    out = io.BytesIO()
    image.convert("RGB").save(out, "JPEG", quality=quality)
    return out.getvalue()


def sources(photos: Path | None, demo: int) -> dict[str, Image.Image]:
    images: dict[str, Image.Image] = {}
    generator = PlaceholderGenerator()
    for index in range(demo):
        prompt = f"portrait photo of a 30 year old european man, view {index}"
        result = generator.generate(GenerationRequest(prompt=prompt, seed=1000 + index))
        images[f"demo-{index}"] = Image.open(io.BytesIO(result.image_bytes)).convert("RGB")
    if photos is not None:
        for path in sorted([*photos.glob("*.jpg"), *photos.glob("*.png")]):
            image = Image.open(path).convert("RGB")
            scale = SIDE / max(image.size)
            size = (round(image.width * scale), round(image.height * scale))
            images[path.stem] = image.resize(size, Image.Resampling.LANCZOS)
    return images


def variants(image: Image.Image) -> dict[str, Image.Image]:
    mean = ImageStat.Stat(image.convert("L")).mean[0]
    return {
        "sharp": image,
        "blur_r1": image.filter(ImageFilter.GaussianBlur(1)),
        "blur_r2": image.filter(ImageFilter.GaussianBlur(2)),
        "blur_r3": image.filter(ImageFilter.GaussianBlur(3)),
        "blur_r5": image.filter(ImageFilter.GaussianBlur(5)),
        "dark_x0.35": ImageEnhance.Brightness(image).enhance(0.35),
        "dark_x0.2": ImageEnhance.Brightness(image).enhance(0.2),
        "light_+70%": Image.blend(image, Image.new("RGB", image.size, "white"), 0.7),
        "light_+85%": Image.blend(image, Image.new("RGB", image.size, "white"), 0.85),
        "flat_x0.05": ImageEnhance.Contrast(image).enhance(0.05),
        "solid": Image.new("RGB", image.size, (int(mean),) * 3),
    }


def near_copies(image: Image.Image) -> dict[str, bytes]:
    width, height = image.size
    dx, dy = round(width * 0.01), round(height * 0.01)
    return {
        "reencode_q60": jpeg(image, 60),
        "resize_95%": jpeg(image.resize((round(width * 0.95), round(height * 0.95)))),
        "crop_2%": jpeg(image.crop((dx, dy, width - dx, height - dy))),
        "blur_r2": jpeg(image.filter(ImageFilter.GaussianBlur(2))),
        "darker_x0.8": jpeg(ImageEnhance.Brightness(image).enhance(0.8)),
    }


def spread(values: list[float]) -> dict[str, float]:
    return {
        "min": round(min(values), 1),
        "median": round(statistics.median(values), 1),
        "max": round(max(values), 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=Path, default=None, help="a folder of photographs")
    parser.add_argument("--demo", type=int, default=12, help="demo placeholder images to use")
    args = parser.parse_args()

    originals = sources(args.photos, args.demo)
    measures: dict[str, dict[str, QualityMeasures]] = {}
    hashes: dict[str, int] = {}
    near: dict[str, list[int]] = {}
    for name, image in originals.items():
        for kind, copy in variants(image).items():
            analysed = decode_for_analysis(jpeg(copy))
            measures.setdefault(kind, {})[name] = measure_quality(analysed)
            if kind == "sharp":
                hashes[name] = perceptual_hash(analysed)
        for kind, data in near_copies(image).items():
            distance = hamming_distance(hashes[name], perceptual_hash(decode_for_analysis(data)))
            near.setdefault(kind, []).append(distance)
        print(f"measured {name}", file=sys.stderr)

    report: dict[str, object] = {"images": len(originals)}
    for field in ("sharpness", "brightness", "entropy"):
        report[field] = {
            kind: spread([getattr(m, field) for m in by_name.values()])
            for kind, by_name in measures.items()
        }
    for group in ("demo", "photos"):
        names = [n for n in originals if n.startswith("demo-") == (group == "demo")]
        if names:
            report[f"sharpness_sharp_{group}"] = spread(
                [measures["sharp"][n].sharpness for n in names]
            )
            report[f"sharpness_blur_r3_{group}"] = spread(
                [measures["blur_r3"][n].sharpness for n in names]
            )
    thresholds = QualityThresholds()
    report["flagged_share_at_defaults"] = {
        kind: {
            check: round(sum(check in found for found in flagged) / len(flagged), 2)
            for check in CHECKS
            if any(check in found for found in flagged)
        }
        for kind, by_name in measures.items()
        for flagged in [
            [{f.check for f in quality_findings(m, thresholds)} for m in by_name.values()]
        ]
    }
    report["near_duplicate_distance"] = {kind: spread(values) for kind, values in near.items()}
    distinct = [
        hamming_distance(hashes[a], hashes[b]) for a, b in itertools.combinations(hashes, 2)
    ]
    report["distinct_distance"] = spread(distinct)
    report["distinct_pairs_at_or_below"] = {
        str(t): sum(1 for d in distinct if d <= t) for t in (6, 8, 10, 12, 14)
    }
    report["distinct_pairs"] = len(distinct)
    for key, value in report.items():
        print(f"{key}: {value}", file=sys.stderr)
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
