"""Run as its own process by the tests: one real generation that stops right after its upload
(before its manifest write) and waits there until the test SIGKILLs it.

    python -m tests.killed_generation DATA_DIR ACTOR_ID MARKER_FILE  (a folder or s3://bucket/prefix)

The endpoint and credentials come from the environment (``AWS_ENDPOINT_URL``...). The pause is
injected at the store seam: a subclass whose ``put_new`` uploads, then writes the key it uploaded
to MARKER_FILE and sleeps.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

from tdm_desktop.core.generation import GenerationService
from tdm_desktop.core.s3_store import S3Store, make_s3_client
from tdm_desktop.generators.placeholder import PlaceholderGenerator

BUCKET = "story-boards-assets"
PROMPT = "portrait photo, killed before its manifest write"


class PausesAfterUpload(S3Store):
    def __init__(self, client: Any, bucket: str, marker: Path) -> None:
        super().__init__(client, bucket, aws_style_urls=True)
        self.marker = marker

    def put_new(self, key: str, data: bytes, content_type: str) -> None:
        super().put_new(key, data, content_type)
        self.marker.write_text(key)
        time.sleep(600)  # the test kills us here


def main() -> None:
    data_dir, actor_id, marker = sys.argv[1:4]
    store = PausesAfterUpload(make_s3_client(region="us-east-1"), BUCKET, Path(marker))
    GenerationService(data_dir, store, PlaceholderGenerator()).generate(actor_id, PROMPT, seed=7)


if __name__ == "__main__":
    main()
