"""Runs inside a job image (bench/handoff_formats.py starts it): which format hands a Keras
model on fastest and identically, under this image's TensorFlow.

For each architecture (weights=None, a 102-class head, a softmax on top like every model the
jobs write), with the weights perturbed so no two models are alike: the time to save and to
load a SavedModel (Keras load_model and tf.saved_model.load), an .h5 file and a .keras file
(where this Keras writes one), the largest difference between the outputs of each reloaded
model and the SavedModel's on the same images, and the .tflite that TFLiteConverter makes
from the SavedModel against the one it makes from the loaded Keras model (FP16 and INT8:
sizes, the largest output difference, and whether top-1 agrees on every image).

Prints one JSON line. Python 3.6 syntax: the Nano image runs it too.
"""
import json
import os
import shutil
import sys
import tempfile
import time

import numpy as np

from jobs import architectures, compat

tf = compat.import_tensorflow()
keras = compat.keras_module(tf)

SIZE = int(sys.argv[1]) if len(sys.argv) > 1 else 224
NAMES = sys.argv[2].split(",") if len(sys.argv) > 2 else ["MobileNetV3Small"]
IMAGES = 32


def timed(function, *args, **kwargs):
    started = time.perf_counter()
    value = function(*args, **kwargs)
    return value, time.perf_counter() - started


def build(name):
    tf.random.set_seed(0)
    model = architectures.build_classifier(keras, name, SIZE, 102, None, logits=True)
    probabilities = keras.layers.Softmax(name="probabilities")(model.output)
    model = keras.Model(model.input, probabilities, name=model.name)
    rng = np.random.RandomState(0)
    # Trained-looking weights: the defaults leave BatchNormalization an identity.
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            gamma, beta, mean, variance = layer.get_weights()
            layer.set_weights([gamma * rng.uniform(0.5, 1.5, gamma.shape).astype("float32"),
                               beta + rng.normal(0, 0.1, beta.shape).astype("float32"),
                               mean + rng.normal(0, 0.1, mean.shape).astype("float32"),
                               variance * rng.uniform(0.5, 1.5, variance.shape)
                               .astype("float32")])
    return model


def outputs(model, images):
    return np.concatenate([model(images[i:i + 8], training=False).numpy()
                           for i in range(0, len(images), 8)])


def tflite_outputs(flatbuffer, images):
    interpreter = compat.tflite_interpreter(tf, model_content=flatbuffer)
    interpreter.allocate_tensors()
    given, taken = interpreter.get_input_details()[0], interpreter.get_output_details()[0]
    rows = []
    for image in images:
        interpreter.set_tensor(given["index"], image[None, ...])
        interpreter.invoke()
        rows.append(interpreter.get_tensor(taken["index"])[0])
    return np.stack(rows)


def convert(converter, mode, images):
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    if mode == "fp16":
        converter.target_spec.supported_types = [tf.float16]
    else:
        def representative():
            for image in images[:16]:
                yield [image[None, ...]]
        converter.representative_dataset = representative
    return converter.convert()


def measure(name, folder):
    model = build(name)
    rng = np.random.RandomState(1)
    images = rng.uniform(0, 255, (IMAGES, SIZE, SIZE, 3)).astype("float32")
    row = {"architecture": name}
    saved = os.path.join(folder, "saved_model")
    _, row["saved_model_save_s"] = timed(model.save, saved, include_optimizer=False)
    reference, row["saved_model_keras_load_s"] = timed(keras.models.load_model, saved,
                                                       compile=False)
    _, row["saved_model_tf_load_s"] = timed(tf.saved_model.load, saved)
    expected = outputs(reference, images)
    for extension in ("h5", "keras"):
        path = os.path.join(folder, "model." + extension)
        try:
            _, row[extension + "_save_s"] = timed(model.save, path, include_optimizer=False)
            loaded, row[extension + "_load_s"] = timed(keras.models.load_model, path,
                                                       compile=False)
        except Exception as error:  # noqa: BLE001 - this Keras has no such format
            row[extension + "_error"] = str(error).splitlines()[0][:200]
            continue
        row[extension + "_bytes"] = os.path.getsize(path)
        row[extension + "_max_abs_diff"] = float(np.max(np.abs(outputs(loaded, images)
                                                                - expected)))
    handed = keras.models.load_model(os.path.join(folder, "model.h5"), compile=False)
    for mode in ("fp16", "int8"):
        # The converter's construction is timed with its conversion: from_saved_model loads
        # the SavedModel there.
        from_saved, row[mode + "_from_saved_model_s"] = timed(lambda m: convert(
            tf.lite.TFLiteConverter.from_saved_model(saved), m, images), mode)
        from_keras, row[mode + "_from_keras_s"] = timed(lambda m: convert(
            tf.lite.TFLiteConverter.from_keras_model(handed), m, images), mode)
        a, b = tflite_outputs(from_saved, images), tflite_outputs(from_keras, images)
        row[mode + "_bytes_from_saved_model"] = len(from_saved)
        row[mode + "_bytes_from_keras"] = len(from_keras)
        row[mode + "_max_abs_diff"] = float(np.max(np.abs(a - b)))
        row[mode + "_same_top1"] = bool(np.all(np.argmax(a, -1) == np.argmax(b, -1)))
    return row


def main():
    rows = []
    for name in NAMES:
        folder = tempfile.mkdtemp()
        try:
            rows.append(measure(name, folder))
        finally:
            shutil.rmtree(folder, ignore_errors=True)
    print(json.dumps({"tensorflow": tf.__version__, "rows": rows}))


main()
