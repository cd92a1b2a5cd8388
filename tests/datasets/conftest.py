"""Fixtures for the dataset tests: small generated datasets, isolated caches, an HTTP server.

Nothing here touches the real caches or the network: HOME, NUMKERAS_HOME and KERAS_HOME
point into tmp_path, and the mirror points at a local port nothing listens on unless a
test starts the server.
"""

from __future__ import annotations

import io
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest

from numkeras.datasets import fashion_mnist
from numkeras.datasets.idx import write_idx

IDX_NAMES = {
    "x_train": "train-images-idx3-ubyte",
    "y_train": "train-labels-idx1-ubyte",
    "x_test": "t10k-images-idx3-ubyte",
    "y_test": "t10k-labels-idx1-ubyte",
}


@pytest.fixture
def arrays() -> dict[str, np.ndarray]:
    """A small MNIST-shaped dataset: 12 training and 5 test images with labels 0..9."""
    rng = np.random.default_rng(0)
    return {
        "x_train": rng.integers(0, 256, size=(12, 28, 28), dtype=np.uint8),
        "y_train": np.array([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1], dtype=np.uint8),
        "x_test": rng.integers(0, 256, size=(5, 28, 28), dtype=np.uint8),
        "y_test": np.array([9, 8, 7, 6, 5], dtype=np.uint8),
    }


@pytest.fixture
def write_dataset() -> Callable[..., Path]:
    """Write a dict of arrays as the four IDX files (gz or raw) into a directory."""

    def write(directory: Path, data: dict[str, np.ndarray], gz: bool = True) -> Path:
        for key, name in IDX_NAMES.items():
            write_idx(directory / (name + (".gz" if gz else "")), data[key])
        return directory

    return write


def _assert_splits_equal(result, data: dict[str, np.ndarray]) -> None:
    (x_train, y_train), (x_test, y_test) = result
    got = {"x_train": x_train, "y_train": y_train, "x_test": x_test, "y_test": y_test}
    for key, array in got.items():
        assert array.dtype == np.uint8, key
        np.testing.assert_array_equal(array, data[key], err_msg=key)


@pytest.fixture
def assert_splits_equal() -> Callable[..., None]:
    """Check a loader's ``((x_train, y_train), (x_test, y_test))`` against a dict of arrays."""
    return _assert_splits_equal


def npz_bytes(data: dict[str, np.ndarray]) -> bytes:
    """The bytes of a Keras-layout .npz holding ``data``."""
    buffer = io.BytesIO()
    np.savez(buffer, **data)
    return buffer.getvalue()


@pytest.fixture
def make_npz() -> Callable[[dict[str, np.ndarray]], bytes]:
    return npz_bytes


@dataclass
class Homes:
    """The isolated locations a test runs with."""

    home: Path
    numkeras_cache: Path
    keras_cache: Path


def _dead_url() -> str:
    """An http URL on a local port that nothing listens on, so connecting fails at once."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/"


@pytest.fixture
def homes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Homes:
    """Point HOME, NUMKERAS_HOME and KERAS_HOME at empty tmp dirs; the mirror at nothing."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("NUMKERAS_HOME", str(tmp_path / "numkeras-home"))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras-home"))
    monkeypatch.setenv("NUMKERAS_DATASETS_MIRROR", _dead_url())
    monkeypatch.setattr(fashion_mnist, "SYSTEM_DIRS", (tmp_path / "no-system-copy",))
    return Homes(
        home=home,
        numkeras_cache=tmp_path / "numkeras-home" / "datasets",
        keras_cache=tmp_path / "keras-home" / "datasets",
    )


@dataclass
class Server:
    """A local HTTP server: ``files`` maps a name to its bytes; ``truncated`` names files
    sent with their full Content-Length but cut off after half; ``requests`` logs paths."""

    url: str
    files: dict[str, bytes] = field(default_factory=dict)
    truncated: set[str] = field(default_factory=set)
    requests: list[str] = field(default_factory=list)


def _handler_for(server: Server) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            name = self.path.lstrip("/")
            server.requests.append(name)
            body = server.files.get(name)
            if body is None:
                self.send_error(404, "Not Found")
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if name in server.truncated:
                self.wfile.write(body[: len(body) // 2])
                self.close_connection = True
            else:
                self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler


@pytest.fixture
def http_server(homes: Homes, monkeypatch: pytest.MonkeyPatch) -> Iterator[Server]:
    """Serve files on 127.0.0.1 (port 0) and set NUMKERAS_DATASETS_MIRROR to it."""
    server = Server(url="")
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(server))
    httpd.daemon_threads = True
    server.url = f"http://127.0.0.1:{httpd.server_address[1]}/"
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    monkeypatch.setenv("NUMKERAS_DATASETS_MIRROR", server.url)
    monkeypatch.setattr("numkeras.datasets._fetch.TIMEOUT_S", 5.0)
    try:
        yield server
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)
