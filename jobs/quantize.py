"""quantize: TFLite post-training quantization of a SavedModel, a .keras or an .h5 model.

A SavedModel converts as it is (``from_saved_model``); a Keras file is loaded by Keras (its
custom layers imported from the spec's ``custom_objects`` file) and converted from the model
(``from_keras_model``), its load counted in ``load_s``.

float32: plain conversion, the reference the others are compared with.  fp16: float16
weights.  dynamic: int8 weights, float activations.  int8: int8 weights and activations
calibrated on N training images, float fallback and float input/output (the paper's INT8).
full_int8: integer-only ops with int8 input and output.

Calibration images are drawn at random (seeded by the spec's ``seed``) from the whole training
split, image folders and tfds alike: the first N of a list ordered by class would all be one
class. The result records how many images of each class were drawn.

Compression time, as a user waiting for the compressed model sees it (the paper's figure):
``load_s`` (TFLiteConverter.from_saved_model, or the Keras file's load; for the calibrated
modes also drawing and decoding the calibration images: ``calibration_load_s``, part of
``load_s``), ``conversion_s``
(``converter.convert()`` alone: the compression proper, calibration runs included) and
``save_s`` (writing the .tflite file); ``compression_total_s`` is their sum.
"""
import os
import time

from jobs import data, models
from jobs._contract import CALIBRATED_QUANTIZE_MODES, QUANTIZE_MODES
from jobs.contract import Outcome
from jobs.errors import JobInputError
from jobs.sizes import path_bytes


def check(spec):
    if spec.get("mode") not in QUANTIZE_MODES:
        raise JobInputError("quantize mode {!r}: choose one of {}".format(
            spec.get("mode"), ", ".join(QUANTIZE_MODES)))
    models.check_model("model", spec.get("model"))
    if spec["mode"] in CALIBRATED_QUANTIZE_MODES:
        count = spec.get("calibration_images")
        if not isinstance(count, int) or count < 1:
            raise JobInputError("calibration_images {!r} must be at least 1 for {}".format(
                count, spec["mode"]))
        data.check(spec)


def calibration_set(tf, spec, input_size):
    """The calibration images, drawn at random from the training split, and their histogram."""
    splits = data.load_splits(tf, spec)
    images, labels = data.sample_images(tf, splits.train, input_size,
                                        spec["calibration_images"], spec.get("seed", 0))
    if not images:
        raise JobInputError("no training images to calibrate with")
    return images, data.class_histogram(labels, [str(name) for name in splits.class_names])


def write_file(path, content):
    with open(path, "wb") as handle:
        handle.write(content)
        handle.flush()
        os.fsync(handle.fileno())  # saved means on disk, as the user's next step needs it


def run(spec, context):
    tf = context.tf
    source = spec["model"]["path"]
    mode = spec["mode"]

    started = time.perf_counter()
    if models.is_saved_model(source):
        converter = tf.lite.TFLiteConverter.from_saved_model(source)
        input_size = None  # read from saved_model.pb only if calibration needs it
    else:
        model, _fmt, _load_s = models.load_input(context.keras, spec, "model")
        converter = tf.lite.TFLiteConverter.from_keras_model(model)
        input_size = int(model.input_shape[1])
    if mode != "float32":
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
    images, histogram, calibration_load_s = [], {}, 0.0
    if mode == "fp16":
        converter.target_spec.supported_types = [tf.float16]
    elif mode in CALIBRATED_QUANTIZE_MODES:
        calibration_started = time.perf_counter()
        images, histogram = calibration_set(
            tf, spec, input_size or models.saved_model_input_size(tf, source))
        calibration_load_s = time.perf_counter() - calibration_started

        def representative():
            for image in images:
                yield [image]

        converter.representative_dataset = representative
        if mode == "full_int8":
            converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
            converter.inference_input_type = tf.int8
            converter.inference_output_type = tf.int8
    load_s = time.perf_counter() - started

    started = time.perf_counter()
    flatbuffer = converter.convert()
    conversion_s = time.perf_counter() - started

    name = "model_{}.tflite".format(mode)
    started = time.perf_counter()
    write_file(context.artifact_path(name), flatbuffer)
    save_s = time.perf_counter() - started

    saved_model_bytes = path_bytes(source)
    return Outcome(
        metrics={
            "saved_model_bytes": saved_model_bytes,
            "tflite_bytes": len(flatbuffer),
            "size_ratio": float(saved_model_bytes) / len(flatbuffer),
            "load_s": load_s,
            "calibration_load_s": calibration_load_s,
            "conversion_s": conversion_s,
            "save_s": save_s,
            "compression_total_s": load_s + conversion_s + save_s,
            "calibration_images": len(images),
            "calibration_class_histogram": histogram,
        },
        artifacts=[("model", "tflite", name)],
    )
