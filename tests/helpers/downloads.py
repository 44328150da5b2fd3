"""Read what a ``st.download_button`` offers in an AppTest run.

AppTest serves media from an in-memory store that lives for one run; :func:`keep_downloads`
swaps it for one that also keeps every file in a dictionary, so a test can read the bytes
behind a download button's URL after the run.
"""

from __future__ import annotations

import io

import pandas as pd
import pytest
from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage
from streamlit.testing.v1 import AppTest

#: Every file stored during the runs of a test that uses :func:`keep_downloads`, by file id.
KEPT: dict[str, bytes] = {}


class _KeepingStorage(MemoryMediaFileStorage):
    def load_and_get_id(self, path_or_data, mimetype, kind, filename=None) -> str:
        file_id = super().load_and_get_id(path_or_data, mimetype, kind, filename)
        KEPT[file_id] = self._files_by_id[file_id].content
        return file_id


@pytest.fixture
def keep_downloads(monkeypatch):
    """Keep the files of download buttons (see :func:`download_frame`)."""
    KEPT.clear()
    monkeypatch.setattr("streamlit.testing.v1.app_test.MemoryMediaFileStorage", _KeepingStorage)
    yield KEPT
    KEPT.clear()


def download_bytes(at: AppTest, index: int = 0) -> bytes:
    """The bytes behind the ``index``-th download button of the last run."""
    url = at.get("download_button")[index].proto.url
    return KEPT[url.rsplit("/", 1)[-1].split(".")[0]]


def download_frame(at: AppTest, index: int = 0) -> pd.DataFrame:
    """The CSV behind the ``index``-th download button, read as text (UTF-8 with BOM)."""
    return pd.read_csv(io.BytesIO(download_bytes(at, index)), encoding="utf-8-sig", dtype=str, keep_default_na=False)
