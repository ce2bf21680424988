"""Run as its own process by the tests: the app's window on moto, closed while a flag write, the
thumbnail GETs and an AUTOMATIC1111 request all wait for an answer that never comes.

    python -m tests.held_close WORK_DIR

The process must end anyway (every background thread is a daemon) and exit 1, with the write
that did not land named in its log (stderr), as ``run_gui`` does for a curator.
"""

from __future__ import annotations

import logging
import os
import socket
import sys
import threading
from pathlib import Path

os.environ["QT_QPA_PLATFORM"] = "offscreen"
for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
    os.environ[name] = "testing"
os.environ["AWS_DEFAULT_REGION"] = "us-east-1"
os.environ["AWS_EC2_METADATA_DISABLED"] = "true"

NEVER = threading.Event()  # never set: whatever waits on it waits for good


def main() -> int:
    from moto import mock_aws
    from PySide6.QtCore import QSettings, QTimer
    from PySide6.QtWidgets import QApplication

    from tdm_desktop.core.s3_store import S3Store, make_s3_client
    from tdm_desktop.core.training_data import TrainingDataService
    from tdm_desktop.generators.a1111 import A1111Generator
    from tdm_desktop.ui.app import run_gui
    from tdm_desktop.ui.generation.controller import SingleRequest
    from tdm_desktop.ui.main_window import MainWindow
    from tdm_desktop.ui.thumbnails.transport import WorkerTransport
    from tests.factories import make_actor

    work = Path(sys.argv[1])
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format="%(message)s")
    silent = socket.socket()  # accepts connections (the kernel's backlog) and never answers
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)

    class HeldFlags(TrainingDataService):
        def flag_each(self, actor_id, flag_sets, known_filenames=None):
            NEVER.wait()
            raise AssertionError("unreachable")

    def held_get(_key: str) -> bytes:
        NEVER.wait()
        return b""

    with mock_aws():
        client = make_s3_client(region="us-east-1")
        client.create_bucket(Bucket="story-boards-assets")
        store = S3Store(client, "story-boards-assets")
        data_dir = work / "data"
        (data_dir / "actor_manifests").mkdir(parents=True)
        names = make_actor(data_dir, store, "0042", "0042_european_30_male", 5)
        service = HeldFlags(data_dir, store)
        generator = A1111Generator(f"http://127.0.0.1:{silent.getsockname()[1]}")

        def drive() -> None:
            window = next(w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow))

            def opened(_actor_id: str) -> None:
                window.controller.mark([names[0]], False)
                request = SingleRequest("a lighthouse")
                window.generation.generate_single(service.generation(generator), "0042", request)
                QTimer.singleShot(500, window.close)

            window.actor_opened.connect(opened)

        QApplication.instance() or QApplication([])
        QTimer.singleShot(0, drive)
        settings = QSettings(str(work / "settings.ini"), QSettings.Format.IniFormat)
        return run_gui(
            service,
            actor_id="0042",
            settings=settings,
            transport_factory=lambda source, parent: WorkerTransport(held_get, parent=parent),
        )


if __name__ == "__main__":
    sys.exit(main())
