"""The shared download and cache helpers: atomic replacement, progress, locations, imports."""

from __future__ import annotations

import hashlib
import io
import subprocess
import sys
from pathlib import Path

import pytest

from numkeras.datasets import DatasetError, _fetch


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_good_file_survives_a_failed_download(tmp_path, http_server) -> None:
    dest = tmp_path / "cache" / "data.bin"
    dest.parent.mkdir()
    dest.write_bytes(b"good old copy")
    http_server.files["data.bin"] = b"x" * 1000
    http_server.truncated.add("data.bin")
    with pytest.raises(DatasetError, match="cut short: received 500 of 1000 bytes"):
        _fetch.download(http_server.url + "data.bin", dest, sha256=None)
    assert dest.read_bytes() == b"good old copy"
    assert [p.name for p in dest.parent.iterdir()] == ["data.bin"]


def test_good_file_survives_a_hash_mismatch(tmp_path, http_server) -> None:
    dest = tmp_path / "cache" / "data.bin"
    dest.parent.mkdir()
    dest.write_bytes(b"good old copy")
    http_server.files["data.bin"] = b"tampered"
    with pytest.raises(DatasetError, match="SHA-256 mismatch"):
        _fetch.download(http_server.url + "data.bin", dest, sha256="0" * 64)
    assert dest.read_bytes() == b"good old copy"
    assert [p.name for p in dest.parent.iterdir()] == ["data.bin"]


def test_good_file_survives_a_failed_validation(tmp_path, http_server) -> None:
    dest = tmp_path / "data.bin"
    dest.write_bytes(b"good old copy")
    http_server.files["data.bin"] = b"bad structure"

    def reject(path: Path) -> None:
        assert path.read_bytes() == b"bad structure"
        raise DatasetError(f"{path}: wrong structure")

    with pytest.raises(DatasetError, match="not valid.*wrong structure"):
        _fetch.download(http_server.url + "data.bin", dest, sha256=None, validate=reject)
    assert dest.read_bytes() == b"good old copy"


def test_download_verifies_and_replaces(tmp_path, http_server) -> None:
    payload = bytes(range(256)) * 50
    http_server.files["data.bin"] = payload
    dest = tmp_path / "new" / "data.bin"
    _fetch.download(http_server.url + "data.bin", dest, hashlib.sha256(payload).hexdigest())
    assert dest.read_bytes() == payload


def test_download_from_file_url(tmp_path) -> None:
    source = tmp_path / "served.bin"
    source.write_bytes(b"offline mirror")
    dest = tmp_path / "cache" / "copy.bin"
    _fetch.download(source.as_uri(), dest, hashlib.sha256(b"offline mirror").hexdigest())
    assert dest.read_bytes() == b"offline mirror"


def test_missing_file_url(tmp_path) -> None:
    with pytest.raises(DatasetError, match="cannot connect"):
        _fetch.download((tmp_path / "absent").as_uri(), tmp_path / "dest", sha256=None)
    assert not (tmp_path / "dest").exists()


def test_progress_is_drawn_only_on_a_terminal() -> None:
    terminal = FakeTerminal()
    progress = _fetch.Progress("mnist.npz", total=2 * 2**20, stream=terminal)
    progress.update(2**20)
    progress.update(2**20)
    progress.close()
    assert "Downloading mnist.npz: 100% of 2.0 MiB" in terminal.getvalue()
    assert terminal.getvalue().endswith("\n")

    pipe = io.StringIO()
    quiet = _fetch.Progress("mnist.npz", total=10, stream=pipe)
    quiet.update(10)
    quiet.close()
    assert pipe.getvalue() == ""


def test_cache_locations_follow_environment(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("NUMKERAS_HOME", raising=False)
    monkeypatch.delenv("KERAS_HOME", raising=False)
    assert _fetch.numkeras_cache_dir() == tmp_path / ".numkeras" / "datasets"
    assert _fetch.keras_cache_dir() == tmp_path / ".keras" / "datasets"
    monkeypatch.setenv("NUMKERAS_HOME", str(tmp_path / "nk"))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "nk"))
    assert _fetch.cache_dirs() == [tmp_path / "nk" / "datasets"]


def test_mirror_overrides_origin(monkeypatch) -> None:
    monkeypatch.delenv("NUMKERAS_DATASETS_MIRROR", raising=False)
    assert _fetch.base_url() == "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
    monkeypatch.setenv("NUMKERAS_DATASETS_MIRROR", "http://mirror.example/datasets")
    assert _fetch.base_url() == "http://mirror.example/datasets/"


def test_import_is_cheap() -> None:
    code = (
        "import sys, numkeras.datasets; "
        "print(sorted(m for m in ('urllib.request', 'http.client', 'gzip', 'zipfile') "
        "if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == "[]"
