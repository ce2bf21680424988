"""Generation throughput on the bundled local S3: what ✨ / 🎨 cost per image, by step.

Measures, in one run: the placeholder generator alone (images/s), the upload alone (put_new of the
same bytes: ms per image), and the whole GenerationService path (generate -> JPEG -> If-None-Match
upload -> manifest -> prompt metadata) for generate_all at concurrency 1 and 2. Prints one JSON
object as the last line. Run: ``.venv/bin/python benchmarks/generation.py [--images 20]``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

from tdm_desktop.core.generation import GenerationService
from tdm_desktop.core.generator import GenerationRequest
from tdm_desktop.core.manifest import TrainingDataManifest
from tdm_desktop.core.s3_store import S3Store, make_s3_client
from tdm_desktop.generators.placeholder import PlaceholderGenerator
from tdm_desktop.local_s3 import LocalS3, LocalS3Config

BUCKET = "story-boards-assets"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=20, help="images per measurement")
    args = parser.parse_args()
    n = args.images
    generator = PlaceholderGenerator()
    prompts = [f"benchmark portrait {i}, three-quarter view, soft light" for i in range(n)]

    with tempfile.TemporaryDirectory(prefix="tdm-genbench-") as tmp:
        root = Path(tmp)
        config = LocalS3Config(data_dir=root / "s3", port=0)
        with LocalS3(config, credentials_dir=root / "config") as server:
            client = make_s3_client(
                endpoint_url=server.endpoint_url,
                access_key=server.access_key,
                secret_key=server.secret_key,
                region="us-east-1",
            )
            store = S3Store(client, BUCKET)

            started = time.perf_counter()
            images = [
                generator.generate(GenerationRequest(prompt=p, seed=i))
                for i, p in enumerate(prompts)
            ]
            generate_s = time.perf_counter() - started

            upload_ms = []
            for i, image in enumerate(images):
                key = store.key_for("9000_bench_30_male", f"upload_{i}.jpg")
                t = time.perf_counter()
                store.put_new(key, image.image_bytes, "image/jpeg")
                upload_ms.append((time.perf_counter() - t) * 1000)

            end_to_end = {}
            for concurrency, actor_id in ((1, "9001"), (2, "9002")):
                data_dir = root / f"data{concurrency}"
                TrainingDataManifest.for_actor(data_dir, actor_id).create(
                    actor_id, f"{actor_id}_bench_30_male"
                )
                service = GenerationService(data_dir, store, generator)
                t = time.perf_counter()
                report = service.generate_all(actor_id, prompts, concurrency=concurrency)
                elapsed = time.perf_counter() - t
                assert len(report.generated) == n, report.summary()
                end_to_end[concurrency] = n / elapsed

    sizes = [len(image.image_bytes) / 1024 for image in images]
    result = {
        "images": n,
        "placeholder_ips": round(n / generate_s, 1),
        "placeholder_ms_per_image": round(generate_s * 1000 / n, 1),
        "image_kb_median": round(statistics.median(sizes), 1),
        "upload_ms_median": round(statistics.median(upload_ms), 1),
        "upload_ms_max": round(max(upload_ms), 1),
        "generate_all_ips_concurrency_1": round(end_to_end[1], 2),
        "generate_all_ips_concurrency_2": round(end_to_end[2], 2),
    }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
