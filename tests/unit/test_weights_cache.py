"""The ImageNet weights cache against a real HTTP server on loopback and a folder mirror:
fetched once, checked by md5, refused in one line when wrong or missing; the test-only hash
table is said aloud on use."""

from __future__ import annotations

import functools
import hashlib
import http.server
import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from launcher.contract.specs import TrainSpec
from launcher.errors import UserError
from launcher.pretrained import WeightsFile
from launcher.weights_cache import WeightsCache, give_weights, load_hashes, source_of

CONTENT = b"weights of the real topology stand here" * 100
NAME = "efficientnetb1_notop.h5"


def md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


def file_with(md5_hash: str, name: str = NAME) -> WeightsFile:
    return WeightsFile("EfficientNetB1", name, "https://keras.invalid/" + name, md5_hash)


class Quiet(http.server.SimpleHTTPRequestHandler):
    requests: list[str] = []

    def log_message(self, *args: object) -> None:
        Quiet.requests.append(self.path)


@pytest.fixture
def mirror(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    folder = tmp_path / "mirror"
    folder.mkdir()
    (folder / NAME).write_bytes(CONTENT)
    Quiet.requests = []
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(Quiet, directory=str(folder)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", folder
    finally:
        server.shutdown()
        server.server_close()


def test_a_file_is_fetched_once_and_checked(tmp_path, mirror):
    url, _ = mirror
    cache = WeightsCache(tmp_path / "cache", mirror=url)
    path = cache.ensure(file_with(md5(CONTENT)))
    assert path == tmp_path / "cache" / NAME and path.read_bytes() == CONTENT
    assert path.stat().st_mode & 0o444 == 0o444  # the job's user reads it
    again = WeightsCache(tmp_path / "cache", mirror=url)
    assert again.ensure(file_with(md5(CONTENT))) == path
    assert Quiet.requests == ["/" + NAME] and cache.fetched == [NAME] and again.fetched == []


def test_a_wrong_hash_is_one_line_and_leaves_nothing(tmp_path, mirror):
    url, _ = mirror
    cache = WeightsCache(tmp_path / "cache", mirror=url)
    with pytest.raises(UserError) as caught:
        cache.ensure(file_with("0" * 32))
    line = str(caught.value)
    assert "\n" not in line and NAME in line and md5(CONTENT) in line
    assert "EDGECOMPRESS_WEIGHTS_URL" in line
    assert list((tmp_path / "cache").iterdir()) == []  # no temp file, no bad copy


def test_a_damaged_cached_copy_is_fetched_again(tmp_path, mirror):
    url, _ = mirror
    cache = WeightsCache(tmp_path / "cache", mirror=url)
    (tmp_path / "cache").mkdir()
    (tmp_path / "cache" / NAME).write_bytes(b"truncated")
    assert cache.cached(file_with(md5(CONTENT))) is None
    assert cache.ensure(file_with(md5(CONTENT))).read_bytes() == CONTENT


def test_missing_and_unreachable_sources_name_the_file_and_the_mirror_option(tmp_path, mirror):
    url, folder = mirror
    absent = file_with(md5(CONTENT), "densenet169_weights_tf_dim_ordering_tf_kernels_notop.h5")
    for source in (url, str(folder), "http://127.0.0.1:9"):
        with pytest.raises(UserError) as caught:
            WeightsCache(tmp_path / "cache", mirror=source).ensure(absent)
        line = str(caught.value)
        assert "\n" not in line and absent.name in line, line
        assert "EDGECOMPRESS_WEIGHTS_URL" in line and str(tmp_path / "cache") in line, line


def test_a_folder_mirror_needs_no_server(tmp_path, mirror):
    _, folder = mirror
    cache = WeightsCache(tmp_path / "cache", mirror=str(folder))
    assert cache.ensure(file_with(md5(CONTENT))).read_bytes() == CONTENT
    assert source_of(file_with("x"), None) == "https://keras.invalid/" + NAME
    assert source_of(file_with("x"), "http://m/w/") == "http://m/w/" + NAME


def test_the_test_hash_table_is_never_silent(tmp_path, mirror):
    _, folder = mirror
    table = tmp_path / "hashes.json"
    table.write_text(json.dumps({NAME: md5(CONTENT)}))
    said: list[str] = []
    cache = WeightsCache(tmp_path / "cache", mirror=str(folder), hashes=load_hashes(table),
                         hashes_from=table, say=said.append)
    cache.ensure(file_with("f" * 32))  # Keras's hash would refuse it; the table accepts it
    assert said and all(str(table) in line and "not Keras's" in line for line in said)
    with pytest.raises(UserError, match="no hash for other.h5"):
        cache.ensure(file_with("f" * 32, "other.h5"))
    table.write_text("[1, 2]")
    with pytest.raises(UserError, match="JSON object"):
        load_hashes(table)


def test_a_spec_asking_for_imagenet_weights_gets_the_file_as_an_input(tmp_path, mirror):
    """Keras 2.12's EfficientNetB1 file, from the table; the stand-in's hash from the test
    table (a real Keras file would pass Keras's own)."""
    _, folder = mirror
    table = tmp_path / "hashes.json"
    table.write_text(json.dumps({NAME: md5(CONTENT)}))
    cache = WeightsCache(tmp_path / "cache", mirror=str(folder), hashes=load_hashes(table),
                         hashes_from=table)
    spec = TrainSpec(architecture="EfficientNetB1", weights="imagenet")
    given, inputs = give_weights(spec, {}, "2.12.1", cache, lambda path: "a" * 64)
    assert inputs == {"weights_file": tmp_path / "cache" / NAME}
    assert given.weights_file is not None and given.weights_file.sha256 == "a" * 64
    assert given.weights_file.path == "/inputs/weights_file"
    untouched, none = give_weights(TrainSpec(weights=None), {}, "2.12.1", cache, str)
    assert none == {} and untouched.weights_file is None
