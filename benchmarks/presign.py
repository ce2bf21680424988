"""What presigning a thumbnail GET costs with botocore, and whether it holds the GIL.

No request is made: a presigned URL is computed locally from the credentials. The client is made
the app's way (``make_s3_client``) with static test credentials, once for AWS (region
``eu-west-1``) and once for a custom endpoint (path style). Figures:

- ``generate_presigned_url``: µs per URL (median of batches), one thread;
- the same on 2 threads (the signer is pure Python: it holds the GIL, so 2 threads add nothing);
- ``S3SigV4QueryAuth.add_auth`` alone on a prepared ``AWSRequest`` (botocore's signer without the
  client's request building and event hooks): how much of the cost is the signature itself;
- the GIL: the median delay past a 1 ms ``time.sleep`` in the main thread while a worker presigns
  nonstop (a GUI thread waiting on a signing worker) against nothing running.

    python benchmarks/presign.py [--urls 3000]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from botocore.auth import S3SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from bench_common import emit, wake_delay_ms
from bench_dataset import object_key
from tdm_desktop.core.s3_store import S3Store, make_s3_client

BUCKET = "story-boards-assets"


def per_url_us(sign: Callable[[str], str], keys: list[str], batches: int = 5) -> float:
    """Median over ``batches`` of the µs per URL for signing all ``keys`` once."""
    runs = []
    for _ in range(batches):
        began = time.perf_counter()
        for key in keys:
            sign(key)
        runs.append((time.perf_counter() - began) / len(keys) * 1e6)
    return statistics.median(runs)


def two_threads_us(sign: Callable[[str], str], keys: list[str]) -> float:
    """µs per URL with two threads signing half each (wall clock over all)."""
    with ThreadPoolExecutor(max_workers=2) as pool:
        began = time.perf_counter()
        list(pool.map(sign, keys))
        return (time.perf_counter() - began) / len(keys) * 1e6


def signer_only(region: str) -> Callable[[str], str]:
    """botocore's SigV4 query signer on a hand-built request (no client machinery)."""
    credentials = Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
    auth = S3SigV4QueryAuth(credentials, "s3", region, expires=3600)
    host = f"https://{BUCKET}.s3.{region}.amazonaws.com/"

    def sign(key: str) -> str:
        request = AWSRequest(method="GET", url=host + key)
        auth.add_auth(request)
        return request.url

    return sign


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--urls", type=int, default=3000)
    args = parser.parse_args(argv)
    for name in list(os.environ):
        if name.startswith("AWS_"):
            del os.environ[name]  # nothing of the user's: static test credentials only
    os.environ["AWS_CONFIG_FILE"] = os.devnull
    os.environ["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull
    keys = [object_key(i) for i in range(args.urls)]
    stores = {
        "aws": S3Store(
            make_s3_client(region="eu-west-1", access_key="AKIDEXAMPLE", secret_key="x" * 40),
            BUCKET,
        ),
        "custom_endpoint": S3Store(
            make_s3_client(
                endpoint_url="http://127.0.0.1:9",
                region="us-east-1",
                access_key="AKIDEXAMPLE",
                secret_key="x" * 40,
            ),
            BUCKET,
        ),
    }
    result: dict[str, object] = {"urls": args.urls, "cpus": os.cpu_count()}
    result["load_average"] = [round(x, 2) for x in os.getloadavg()]
    for name, store in stores.items():
        store.presign_get(keys[0])  # first call loads botocore's models and endpoint rules
        result[f"presign_{name}_us"] = round(per_url_us(store.presign_get, keys), 1)
        result[f"presign_{name}_2_threads_us"] = round(two_threads_us(store.presign_get, keys), 1)
    result["sigv4_signer_only_us"] = round(per_url_us(signer_only("eu-west-1"), keys), 1)
    aws = stores["aws"]
    result["wake_delay_ms"] = {
        "nothing": round(wake_delay_ms(None), 3),
        "presigning_worker": round(wake_delay_ms(lambda: aws.presign_get(keys[0])), 3),
    }
    for key, value in result.items():
        print(f"{key:>32}: {value}", file=sys.stderr)
    emit(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
