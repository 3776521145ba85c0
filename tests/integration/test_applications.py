"""Every keras.applications network of this twin's stack, as the launcher's table says
(launcher/applications_table.json, written by `make applications`), in one container:
- the stack has exactly the table's networks, each preprocessing its inputs as the table says;
- every one builds as a classifier (its preprocessing in front, a new head) at its smallest
  input, and its config serialises (the failure Keras 2.12's EfficientNet had);
- each Keras module's smallest network asks for the ImageNet file the table names, and saves
  and reloads as .h5 to the same outputs through the jobs' own loader (ConvNeXt's layers are
  keras.applications' own classes, which Keras's load_model does not know);
- each preprocessing mode's smallest network computes what Keras's own ``preprocess_input``
  followed by the plain backbone computes, on raw pixels (the caffe mode's channel order
  included);
- two (tf and caffe modes) convert to .tflite with the Keras model's outputs.
Building every network a second time, or saving the largest (ConvNeXtXLarge: 1.4 GB), would
add minutes a twin and test nothing the config and the samples do not.
"""

from __future__ import annotations

import json

import pytest

from launcher.applications import stacks, tensorflow_line

from .in_image import python_in_image

pytestmark = pytest.mark.docker

CHECK = r"""
import inspect, json, os, tempfile
import numpy as np
from jobs import architectures, compat, models, pretrained
tf = compat.import_tensorflow(); keras = compat.keras_module(tf)
table = json.loads(os.environ['TABLE'])
names = architectures.available(keras)
report = {'names': names, 'networks': {}, 'modules': {}, 'modes': {}, 'tflite': {}}
rng = np.random.RandomState(0)


def module_of(name):
    return inspect.getmodule(getattr(keras.applications, name)).__name__


def features(model):
    return keras.Model(model.input, model.get_layer(architectures.HEAD).input)


parameters = {}
for name in names:
    size = table.get(name, {}).get('smallest_input', 75)  # one the table lacks: asserted below
    mode = architectures.preprocessing(keras, name)
    model = architectures.build_classifier(keras, name, size, 3, None)
    json.loads(model.to_json())
    report['networks'][name] = {'preprocessing': mode, 'outputs': model.output_shape[-1],
                                'parameters': int(model.count_params())}
    keras.backend.clear_session()
# The samples are each module's and each mode's smallest network: the largest (NASNetLarge,
# ConvNeXtBase) take minutes to save and reload and test nothing more.
sample_of_module, sample_of_mode = {}, {}
built = report['networks']
for name in sorted(built, key=lambda n: (built[n]['parameters'], n)):
    sample_of_module.setdefault(module_of(name), name)
    sample_of_mode.setdefault(built[name]['preprocessing'], name)
for module, name in sorted(sample_of_module.items()):
    size = table[name]['smallest_input']
    # NASNet on Keras 2.7: ImageNet weights at the size they were trained at alone.
    requested = pretrained.requested_file(keras, name, table[name]['only_size'] or size)
    keras.backend.clear_session()
    model = architectures.build_classifier(keras, name, size, 3, None)
    images = rng.randint(0, 256, size=(2, size, size, 3)).astype('float32')
    path = os.path.join(tempfile.mkdtemp(), 'm.h5')
    model.save(path, include_optimizer=False)
    back = models.load_keras(keras, path)
    difference = float(np.max(np.abs(back.predict(images, verbose=0)
                                     - model.predict(images, verbose=0))))
    os.remove(path)
    report['modules'][module] = {'network': name, 'requested': requested,
                                 'h5_max_difference': difference}
    keras.backend.clear_session()

for mode, name in sorted(sample_of_mode.items()):
    size = max(table[name]['smallest_input'], 64)
    model = architectures.build_classifier(keras, name, size, 3, None)
    ours = features(model)
    plain = getattr(keras.applications, name)(include_top=False, weights=None, pooling='avg',
                                              input_shape=(size, size, 3))
    weights = [w.numpy() for w in model.weights[:-2]]  # the head's kernel and bias come last
    if mode == 'caffe':  # undo the first kernel's channel reversal: the plain one reads BGR
        first = next(i for i, w in enumerate(weights) if w.ndim == 4 and w.shape[2] == 3)
        weights[first] = weights[first][:, :, ::-1, :]
    plain.set_weights(weights)
    raw = rng.randint(0, 256, size=(2, size, size, 3)).astype('float32')
    module = inspect.getmodule(getattr(keras.applications, name))
    expected = plain.predict(module.preprocess_input(raw.copy()), verbose=0)
    got = ours.predict(raw, verbose=0)
    report['modes'][mode] = {'network': name,
                             'max_difference': float(np.max(np.abs(got - expected))),
                             'scale': float(np.max(np.abs(expected)))}
    if mode in ('tf', 'caffe'):
        converter = tf.lite.TFLiteConverter.from_keras_model(model)
        interpreter = compat.tflite_interpreter(tf, model_content=converter.convert())
        interpreter.allocate_tensors()
        index = interpreter.get_input_details()[0]['index']
        interpreter.set_tensor(index, raw[:1])
        interpreter.invoke()
        lite = interpreter.get_tensor(interpreter.get_output_details()[0]['index'])
        report['tflite'][mode] = {'network': name, 'max_difference': float(
            np.max(np.abs(lite - model.predict(raw[:1], verbose=0))))}
    keras.backend.clear_session()
print(json.dumps(report))
"""


def test_every_network_of_this_stack_builds_as_the_table_says(image_id, profile):
    line = tensorflow_line(profile.tensorflow)
    networks = stacks()[line]
    table = {name: {"smallest_input": net.smallest_input, "only_size": net.only_size}
             for name, net in networks.items()}

    script = f"import os; os.environ['TABLE'] = {json.dumps(json.dumps(table))}\n" + CHECK
    report = json.loads(python_in_image(image_id, script, {}, timeout_s=1500))
    assert sorted(report["networks"]) == report["names"]
    assert report["names"] == sorted(networks), "stale table: run `make applications`"
    for name, got in report["networks"].items():
        assert got["preprocessing"] == networks[name].preprocessing and got["outputs"] == 3, name
    assert len(report["modules"]) >= (9 if line == "2.7" else 13), report["modules"].keys()
    for module, got in report["modules"].items():
        net = networks[got["network"]]
        listed = next(f for f in net.files if f.sizes is None)
        assert (got["requested"]["fname"], got["requested"]["origin"],
                got["requested"]["file_hash"]) == (listed.name, listed.origin, listed.file_hash)
        assert got["h5_max_difference"] < 1e-5, (module, got)
    assert set(report["modes"]) == {"inside", "tf", "torch", "caffe"}
    for mode, got in report["modes"].items():
        assert got["max_difference"] <= 1e-4 * max(1.0, got["scale"]), (mode, got)
    assert set(report["tflite"]) == {"tf", "caffe"}
    for mode, got in report["tflite"].items():
        assert got["max_difference"] < 1e-4, (mode, got)
