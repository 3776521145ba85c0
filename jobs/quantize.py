"""quantize: TFLite post-training quantization of a SavedModel.

float32: plain conversion, the reference the others are compared with.  fp16: float16
weights.  dynamic: int8 weights, float activations.  int8: int8 weights and activations
calibrated on N training images, float fallback and float input/output (the paper's INT8).
full_int8: integer-only ops with int8 input and output.

``conversion_s`` times ``converter.convert()`` alone, calibration included: loading the
calibration images and writing the file are outside it.
"""
import time

from jobs import data, models
from jobs._contract import CALIBRATED_QUANTIZE_MODES, QUANTIZE_MODES
from jobs.contract import Outcome
from jobs.errors import JobInputError


def check(spec):
    if spec.get("mode") not in QUANTIZE_MODES:
        raise JobInputError("quantize mode {!r}: choose one of {}".format(
            spec.get("mode"), ", ".join(QUANTIZE_MODES)))
    models.check_saved_model("model", spec.get("model"))
    if spec["mode"] in CALIBRATED_QUANTIZE_MODES:
        count = spec.get("calibration_images")
        if not isinstance(count, int) or count < 1:
            raise JobInputError("calibration_images {!r} must be at least 1 for {}".format(
                count, spec["mode"]))
        data.check(spec)


def calibration_images(tf, spec, input_size):
    splits = data.load_splits(tf, spec)
    images = data.first_images(tf, splits.train, input_size, spec["calibration_images"])
    if not images:
        raise JobInputError("no training images to calibrate with")
    return images


def model_input_size(tf, path):
    loaded = tf.saved_model.load(path)
    signature = loaded.signatures["serving_default"]
    spec = list(signature.structured_input_signature[1].values())[0]
    return int(spec.shape[1])


def run(spec, context):
    tf = context.tf
    source = spec["model"]["path"]
    mode = spec["mode"]
    converter = tf.lite.TFLiteConverter.from_saved_model(source)
    if mode != "float32":
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
    images = []
    if mode == "fp16":
        converter.target_spec.supported_types = [tf.float16]
    elif mode in CALIBRATED_QUANTIZE_MODES:
        images = calibration_images(tf, spec, model_input_size(tf, source))

        def representative():
            for image in images:
                yield [image]

        converter.representative_dataset = representative
        if mode == "full_int8":
            converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
            converter.inference_input_type = tf.int8
            converter.inference_output_type = tf.int8
    started = time.time()
    flatbuffer = converter.convert()
    conversion_s = time.time() - started

    name = "model_{}.tflite".format(mode)
    with open(context.artifact_path(name), "wb") as handle:
        handle.write(flatbuffer)
    saved_model_bytes = models.path_bytes(source)
    return Outcome(
        metrics={
            "saved_model_bytes": saved_model_bytes,
            "tflite_bytes": len(flatbuffer),
            "size_ratio": float(saved_model_bytes) / len(flatbuffer),
            "conversion_s": conversion_s,
            "calibration_images": len(images),
        },
        artifacts=[("model", "tflite", name)],
    )
