"""Runs inside a job image: where the bytes of a SavedModel and of its INT8 .tflite go, to
explain the SavedModel/INT8 size ratio (docs/benchmarks.md, "Model sizes").

    docker run --rm --network none -v "$PWD/bench/container:/bench:ro" \
        --entrypoint python3 edgecompress/jobs:x86-tf2.12-py311 \
        /bench/int8_sizes.py MobileNetV3Small DenseNet201

Each model: 224 x 224, a 102-class head, weights=None (sizes do not depend on the weights'
values), saved as the jobs save it (models.save) and converted as the quantize job's int8
mode does (Optimize.DEFAULT, a representative dataset: float fallback, float input/output),
calibrated on 16 random images (the number changes scale values, not sizes). One JSON line
per model on stdout.
"""
import json
import os
import sys
import tempfile

import numpy as np

from jobs import architectures, compat, models

tf = compat.import_tensorflow()
keras = compat.keras_module(tf)
from tensorflow.lite.python import schema_py_generated as schema  # noqa: E402

TYPE_NAMES = {v: k for k, v in vars(schema.TensorType).items() if not k.startswith("_")}
OP_NAMES = {v: k for k, v in vars(schema.BuiltinOperator).items() if not k.startswith("_")}


def folder_bytes(path):
    return sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(path) for f in fs)


def saved_model_parts(path):
    parts = {"variables": folder_bytes(os.path.join(path, "variables"))}
    for name in sorted(os.listdir(path)):
        full = os.path.join(path, name)
        if name != "variables":
            parts[name] = folder_bytes(full) if os.path.isdir(full) else os.path.getsize(full)
    return parts


def tflite_parts(flatbuffer):
    """Bytes of the constant buffers by tensor type (each buffer once, however many tensors
    share it), of the quantization parameters (a float32 scale and an int64 zero point per
    channel), the rest (operators, tensor tables, names: the graph), and the operators that
    run in float."""
    model = schema.ModelT.InitFromObj(schema.Model.GetRootAsModel(flatbuffer, 0))
    by_type, seen, quant_bytes, per_channel, float_ops, ops = {}, set(), 0, 0, {}, {}
    graph = model.subgraphs[0]
    for tensor in graph.tensors:
        data = model.buffers[tensor.buffer].data if tensor.buffer else None
        if data is not None and len(data) and tensor.buffer not in seen:
            seen.add(tensor.buffer)
            name = TYPE_NAMES[tensor.type]
            by_type[name] = by_type.get(name, 0) + len(data)
        q = tensor.quantization
        if q is not None and q.scale is not None:
            quant_bytes += 4 * len(q.scale) + 8 * len(q.zeroPoint)
            per_channel += len(q.scale) > 1
    for op in graph.operators:
        code = model.operatorCodes[op.opcodeIndex]
        name = OP_NAMES.get(max(code.builtinCode, code.deprecatedBuiltinCode), "?")
        ops[name] = ops.get(name, 0) + 1
        types = {TYPE_NAMES[graph.tensors[i].type] for i in list(op.inputs) + list(op.outputs)
                 if i >= 0}
        if types & {"FLOAT32", "FLOAT16"}:
            float_ops[name] = float_ops.get(name, 0) + 1
    buffers = sum(by_type.values())
    return {"bytes": len(flatbuffer), "buffers_by_type": by_type, "quant_params": quant_bytes,
            "rest": len(flatbuffer) - buffers - quant_bytes, "tensors": len(graph.tensors),
            "per_channel_tensors": per_channel, "ops": sum(ops.values()),
            "float_ops": float_ops}


def convert(path, int8):
    converter = tf.lite.TFLiteConverter.from_saved_model(path)
    if int8:
        rng = np.random.default_rng(0)
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.representative_dataset = lambda: (
            [rng.uniform(0, 255, (1, 224, 224, 3)).astype("float32")] for _ in range(16))
    return converter.convert()


def main():
    for name in sys.argv[1:]:
        model = architectures.build_classifier(keras, name, 224, 102, None)
        with tempfile.TemporaryDirectory() as out:
            path = models.save(model, out)
            row = {"model": name, "tensorflow": tf.__version__,
                   "parameters": int(model.count_params()),
                   "saved_model": saved_model_parts(path),
                   "saved_model_bytes": folder_bytes(path),
                   "float32_tflite_bytes": len(convert(path, False)),
                   "int8": tflite_parts(convert(path, True))}
        print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
