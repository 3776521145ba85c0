"""quantize: TFLite post-training quantization of a SavedModel.

``conversion_s`` times ``converter.convert()`` alone: loading the SavedModel and writing the
file are outside it, as the paper's compression time is the compression itself.
"""
import os
import time

from jobs.contract import Outcome, path_bytes
from jobs.errors import JobInputError

MODES = ("fp16", "dynamic")


def check(spec):
    if spec.get("mode") not in MODES:
        raise JobInputError("quantize mode {!r}: choose one of {}".format(
            spec.get("mode"), ", ".join(MODES)))
    model = (spec.get("model") or {}).get("path")
    if not model or not os.path.isfile(os.path.join(model, "saved_model.pb")):
        raise JobInputError(
            "model input {!r} is not a SavedModel folder (no saved_model.pb): pass a folder "
            "written by make_model or model.save()".format(model))


def run(spec, context):
    tf = context.tf
    source = spec["model"]["path"]
    converter = tf.lite.TFLiteConverter.from_saved_model(source)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    if spec["mode"] == "fp16":
        converter.target_spec.supported_types = [tf.float16]
    started = time.time()
    flatbuffer = converter.convert()
    conversion_s = time.time() - started

    name = "model_{}.tflite".format(spec["mode"])
    with open(context.artifact_path(name), "wb") as handle:
        handle.write(flatbuffer)
    saved_model_bytes = path_bytes(source)
    return Outcome(
        metrics={
            "saved_model_bytes": saved_model_bytes,
            "tflite_bytes": len(flatbuffer),
            "size_ratio": float(saved_model_bytes) / len(flatbuffer),
            "conversion_s": conversion_s,
        },
        artifacts=[("model", "tflite", name)],
    )
