"""The ImageNet branch of keras.applications, offline, on every twin.

Stub weight files of each architecture's exact topology and file name are made in the twin's
image (stand_ins/imagenet_stubs.py), served by an HTTP server on loopback acting as the
mirror, and fetched through the launcher's real path (launcher/weights_cache.py) with the test
hash table (EDGECOMPRESS_WEIGHTS_HASHES; Keras's own hashes refuse them, also tested). Then:
- the launcher's table names the file, origin and hash this twin's Keras asks for;
- in one container, each of the six builds with ``weights="imagenet"`` from its file (the
  loaded weights are the file's), carries its input correction where its Keras has one, trains
  its head a step with the backbone unchanged, and saves and reloads as .h5 to the same outputs;
- in the first twin, a campaign on an image folder trains MobileNetV3Small from its ImageNet
  weights, quantizes it to FP16 and benchmarks both, no job downloading anything; run again,
  it fetches nothing and starts nothing. (The six through train, FP16 and benchmark jobs take
  24 minutes on this stack: docs/benchmarks.md, "ImageNet weights"; here EfficientNet's saves,
  which Keras 2.12 could not write, are checked in the six's container.)
"""

from __future__ import annotations

import functools
import http.server
import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from launcher.contract.vocabulary import PAPER_ARCHITECTURES
from launcher.pretrained import weights_file
from launcher.report.networks import PAPER_NETWORKS
from launcher.weights_cache import WeightsCache, load_hashes
from stand_ins import IMAGENET_STUBS

from .in_image import python_in_image

pytestmark = pytest.mark.docker
REPO = Path(__file__).resolve().parents[2]


class Counted(http.server.SimpleHTTPRequestHandler):
    served: list[str] = []

    def log_message(self, *args: object) -> None:
        Counted.served.append(self.path)


@dataclass(frozen=True)
class Mirror:
    url: str
    folder: Path
    requested: dict[str, dict[str, str]]  # architecture -> what this twin's Keras asks for
    hashes: Path  # the stubs' md5s: EDGECOMPRESS_WEIGHTS_HASHES

    def env(self, cache: Path) -> dict[str, str]:
        return {**os.environ, "EDGECOMPRESS_WEIGHTS_URL": self.url,
                "EDGECOMPRESS_WEIGHTS_DIR": str(cache),
                "EDGECOMPRESS_WEIGHTS_HASHES": str(self.hashes)}


@pytest.fixture(scope="module")
def mirror(image_id, tmp_path_factory) -> Iterator[Mirror]:
    folder = tmp_path_factory.mktemp("mirror")
    folder.chmod(0o777)
    table = python_in_image(
        image_id, IMAGENET_STUBS.read_text() + "\nmain('/out', [])\n", {}, {folder: "/out"})
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(Counted, directory=str(folder)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield Mirror(f"http://127.0.0.1:{server.server_address[1]}", folder, json.loads(table),
                     folder / "hashes.json")
    finally:
        server.shutdown()
        server.server_close()


def test_the_table_names_what_this_twins_keras_asks_for(mirror, profile):
    for architecture in PAPER_ARCHITECTURES:
        ours, keras = weights_file(architecture, profile.tensorflow), mirror.requested[architecture]
        assert (ours.name, ours.origin, ours.file_hash) == (
            keras["fname"], keras["origin"], keras["file_hash"]), architecture


CHECK_SIX = r"""
import json
import h5py
import numpy as np
from jobs import architectures, compat
tf = compat.import_tensorflow(); keras = compat.keras_module(tf)
files = json.loads(open('/files.json').read())
report = {}
rng = np.random.RandomState(0)
images = tf.constant(rng.randint(0, 256, size=(4, 32, 32, 3)).astype('float32'))
labels = tf.constant(np.arange(4) % 10)


def file_weights(path):
    # Keras's .h5 weights layout: every layer's weights in the order the file lists them.
    with h5py.File(path, 'r') as handle:
        group = handle['model_weights'] if 'model_weights' in handle else handle
        names = [n.decode() if isinstance(n, bytes) else n for n in group.attrs['layer_names']]
        out = []
        for name in names:
            layer = group[name]
            for weight in layer.attrs['weight_names']:
                out.append(np.asarray(layer[weight.decode() if isinstance(weight, bytes)
                                            else weight]))
        return out


for name, path in sorted(files.items()):
    model = architectures.build_classifier(keras, name, 32, 10, 'imagenet', weights_file=path)
    stored = file_weights(path)
    # The backbone's weights in order (the head's two come last) are the file's.
    same = (len(model.weights) == len(stored) + 2
            and all(np.array_equal(w.numpy(), v) for w, v in zip(model.weights, stored)))
    # The ImageNet input correction sits between EfficientNet's Normalization and its stem:
    # a Rescaling on Keras 2.12 (its scale now a list), a multiply on tf_keras 2.21, nothing on
    # Keras 2.7.
    names = [l.name for l in model.layers]
    corrections = (names[names.index('normalization') + 1:names.index('stem_conv_pad')]
                   if 'normalization' in names else [])
    for layer in model.layers:
        if isinstance(layer, keras.layers.Rescaling):
            assert not hasattr(layer.scale, 'numpy'), (name, layer.name)
    architectures.apply_regime(keras, model, 'head')
    backbone_before = [w.numpy().copy() for w in model.non_trainable_weights]
    head = model.get_layer('head')
    # Kernel and bias: a random stub backbone can pass features so small (1e-11) that one step
    # leaves the kernel as it was in float32; the bias always moves.
    head_before = [w.numpy().copy() for w in head.weights]
    # One training step of the head, eagerly (no graph to trace for six backbones).
    optimizer = keras.optimizers.SGD(0.1)
    with architectures.frozen_in_inference_mode(keras, model) as quieted:
        with tf.GradientTape() as tape:
            loss = keras.losses.sparse_categorical_crossentropy(
                labels, model(images, training=True))
        grads = tape.gradient(loss, model.trainable_weights)
        optimizer.apply_gradients(zip(grads, model.trainable_weights))
    backbone_same = all(np.array_equal(a, w.numpy())
                        for a, w in zip(backbone_before, model.non_trainable_weights))
    head_moved = any(not np.array_equal(a, w.numpy()) for a, w in zip(head_before, head.weights))
    json.loads(model.to_json())  # Keras 2.12's EagerTensor scale failed right here
    model.save('/tmp/m.h5', include_optimizer=False)
    back = keras.models.load_model('/tmp/m.h5', compile=False)
    expected = model(images, training=False).numpy()
    difference = float(np.max(np.abs(back(images, training=False).numpy() - expected)))
    if name.startswith('EfficientNet'):
        # Where Keras 2.12 failed: the SavedModel's config (without the traced functions, which
        # take a minute per model here; the folder campaign's jobs save them in full).
        model.save('/tmp/m_saved', include_optimizer=False, save_traces=False)
        back = keras.models.load_model('/tmp/m_saved', compile=False)
        difference = max(difference, float(np.max(np.abs(
            back(images, training=False).numpy() - expected))))
    report[name] = {'weights_are_the_files': same, 'corrections': corrections,
                    'backbone_unchanged': backbone_same, 'head_moved': head_moved,
                    'dropout_quieted': quieted, 'h5_max_difference': difference,
                    'trainable': len(model.trainable_weights),
                    'fingerprint': architectures.fingerprint(model)}
    keras.backend.clear_session()

# canonical: the network Keras >= 2.10 builds, at the paper's setting (224 px, 102 classes),
# from the same file: its weights are the file's (on Keras 2.7 MobileNetV3 drops Conv_2's,
# the file's last two), and it saves and reloads as .h5.
report['canonical'] = {}
for name in ('MobileNetV3Small', 'MobileNetV3Large', 'EfficientNetB1', 'EfficientNetB3'):
    model = architectures.build_classifier(keras, name, 224, 102, 'imagenet',
                                           weights_file=files[name], canonical=True)
    stored = file_weights(files[name])
    backbone = model.weights[:-2]
    names = [l.name for l in model.layers]
    corrections = (names[names.index('normalization') + 1:names.index('stem_conv_pad')]
                   if 'normalization' in names else [])
    scales = [list(map(float, np.ravel(model.get_layer(c).scale))) for c in corrections
              if isinstance(model.get_layer(c), keras.layers.Rescaling)]
    entry = {'fingerprint': architectures.fingerprint(model),
             'weights_are_the_files': all(np.array_equal(w.numpy(), v)
                                          for w, v in zip(backbone, stored)),
             'file_weights_left_out': len(stored) - len(backbone), 'scales': scales}
    if name == 'EfficientNetB1':
        x = tf.constant(rng.randint(0, 256, size=(2, 224, 224, 3)).astype('float32'))
        model.save('/tmp/c.h5', include_optimizer=False)
        back = keras.models.load_model('/tmp/c.h5', compile=False)
        entry['h5_max_difference'] = float(np.max(np.abs(
            back(x, training=False).numpy() - model(x, training=False).numpy())))
    report['canonical'][name] = entry
    keras.backend.clear_session()
print(json.dumps(report))
"""


def test_the_six_build_from_their_files_train_and_save_on_this_twin(mirror, image_id, profile,
                                                                     tmp_path):
    cache = WeightsCache(tmp_path / "cache", mirror=mirror.url,
                         hashes=load_hashes(mirror.hashes), hashes_from=mirror.hashes)
    files = {arch: cache.ensure(weights_file(arch, profile.tensorflow))
             for arch in PAPER_ARCHITECTURES}
    (tmp_path / "files.json").write_text(json.dumps(
        {arch: f"/weights/{path.name}" for arch, path in files.items()}))
    report = json.loads(python_in_image(
        image_id, CHECK_SIX, {tmp_path / "cache": "/weights", tmp_path / "files.json":
                              "/files.json"}, timeout_s=900))
    corrected = profile.tensorflow.startswith("2.7") is False  # Keras >= 2.10 corrects inputs
    for arch in PAPER_ARCHITECTURES:
        got = report[arch]
        assert got["weights_are_the_files"] and got["backbone_unchanged"] and got["head_moved"]
        assert got["trainable"] == 2, (arch, got)  # the head's kernel and bias alone
        assert got["h5_max_difference"] < 1e-5, (arch, got)
        is_efficientnet = arch.startswith("EfficientNet")
        assert bool(got["corrections"]) is (is_efficientnet and corrected), (arch, got)
        assert (got["dropout_quieted"] > 0) is is_efficientnet, (arch, got)
    # canonical = true builds the Xavier NX's (Keras 2.12's) network on the Nano's Keras 2.7
    # too; tf_keras 2.21 writes EfficientNet's correction as a multiply, not a Rescaling, so
    # there only the MobileNetV3s are 2.12's to the layer.
    nano = profile.tensorflow.startswith("2.7")
    for arch, got in report["canonical"].items():
        assert got["weights_are_the_files"], (arch, got)
        assert got["file_weights_left_out"] == (2 if nano and "MobileNetV3" in arch else 0)
        if arch.startswith("EfficientNet") and not profile.tensorflow.startswith("2.21"):
            assert got["scales"] == [pytest.approx([0.229 ** -0.5, 0.224 ** -0.5,
                                                     0.225 ** -0.5])], (arch, got)
        if arch == "EfficientNetB1":
            assert got["h5_max_difference"] < 1e-5, got
        if arch.startswith("MobileNetV3") or not profile.tensorflow.startswith("2.21"):
            assert got["fingerprint"]["sha256"] == PAPER_NETWORKS["xavier"][arch], (arch, got)


def test_keras_hashes_refuse_a_file_that_is_not_kerass(mirror, profile, tmp_path):
    env = mirror.env(tmp_path / "cache")
    del env["EDGECOMPRESS_WEIGHTS_HASHES"]
    proc = subprocess.run(
        [sys.executable, "-m", "launcher", "fetch", "quick", "--store", str(tmp_path / "s")],
        capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 0 and "needs nothing" in proc.stdout  # weights = "none"
    campaign = tmp_path / "b1.toml"
    campaign.write_text(CAMPAIGN)
    proc = subprocess.run(
        [sys.executable, "-m", "launcher", "fetch", str(campaign), "--store",
         str(tmp_path / "s")], capture_output=True, text=True, env=env, timeout=120)
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 2 and len(lines) == 1, proc.stderr
    name = weights_file("MobileNetV3Small", profile.tensorflow).name
    assert name in lines[0] and mirror.url in lines[0]
    assert "EDGECOMPRESS_WEIGHTS_URL" in lines[0] and "md5" in lines[0]
    assert not list((tmp_path / "cache").glob("*.h5"))


CAMPAIGN = """
name = "imagenet-offline"
models = ["MobileNetV3Small"]
methods = ["fp16"]
copies = 1
input_size = 32
batch_size = 32
weights = "imagenet"
epochs = 1
timeout_s = 900
[dataset]
source = "digits"
[benchmark]
latency_images = 8
latency_runs = 2
warmup_runs = 1
"""


def test_a_folder_campaign_from_imagenet_weights_runs_with_no_download_in_any_job(
        mirror, profile, tmp_path):
    from launcher.files import tree_digest
    from launcher.store import Store

    campaign = tmp_path / "b1.toml"
    campaign.write_text(CAMPAIGN)
    store, cache = tmp_path / "store", tmp_path / "cache"
    env = mirror.env(cache)
    served_before = len(Counted.served)
    command = [sys.executable, "-m", "launcher", "campaign", "run", str(campaign), "--profile",
               profile.name, "--store", str(store)]
    first = subprocess.run(command, capture_output=True, text=True, env=env, timeout=1800)
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    name = weights_file("MobileNetV3Small", profile.tensorflow).name
    assert f"fetching ImageNet weights {name}" in first.stdout
    assert Counted.served[served_before:] == [f"/{name}"]  # once, by the host

    loaded = [Store(store).load(folder) for folder in sorted((store / "jobs").iterdir())]
    results = {s.result.job: s.result for s in loaded if s.result is not None}
    assert len([s for s in loaded if s.result is not None]) == len(loaded) == 5
    assert set(results) == {"decode", "train", "quantize", "benchmark"}
    train = results["train"]
    digest = tree_digest(cache / name)
    assert train.spec.weights == "imagenet" and train.spec.weights_file is not None
    assert train.spec.weights_file.sha256 == digest  # the weights are part of the key
    assert train.spec.regime == "head"
    assert train.metrics.frozen_dropout_quieted == 0  # MobileNetV3 has no Dropout below its top
    assert train.metrics.fingerprint is not None
    assert train.metrics.fingerprint.parameters == train.metrics.parameters

    again = subprocess.run(command, capture_output=True, text=True, env=env, timeout=600)
    assert again.returncode == 0 and "0 job(s) ran" in again.stdout, again.stdout[-2000:]
    assert "fetching" not in again.stdout
    assert Counted.served[served_before:] == [f"/{name}"]
