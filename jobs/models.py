"""Loading, saving and measuring models on disk."""
import gzip
import io
import os
import tarfile
import tempfile
import time
import zipfile

from jobs import architectures, compat, user_code
from jobs._contract import HANDOFF_ARTIFACT
from jobs.errors import JobInputError

SAVED_MODEL_DIR = "saved_model"
HANDOFF_FILE = "model.h5"


HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"


def is_saved_model(path):
    return bool(path) and os.path.isfile(os.path.join(path, "saved_model.pb"))


def keras_format(path):
    """"saved_model", "keras" (a zip: Keras's own format from 2.12 on) or "h5", told by the
    content, not the name: an input is mounted as /inputs/<field>, without its suffix."""
    if is_saved_model(path):
        return "saved_model"
    if not path or not os.path.isfile(path):
        return None
    with open(path, "rb") as handle:
        head = handle.read(8)
    if head == HDF5_MAGIC:
        return "h5"
    if zipfile.is_zipfile(path):
        return "keras"
    return None


def check_model(role, ref):
    """A model input Keras can be asked to load: a SavedModel folder, a .keras or an .h5 file."""
    path = (ref or {}).get("path")
    if keras_format(path) is None:
        raise JobInputError(
            "{} input {!r} is neither a SavedModel folder (no saved_model.pb), a .keras file "
            "nor an .h5 file".format(role, path))


def check_handoff(spec, field):
    """An ``field``_h5 input, when given, must be a file: the .h5 copy of ``field``."""
    path = (spec.get(field + "_h5") or {}).get("path")
    if path is not None and not os.path.isfile(path):
        raise JobInputError("{}_h5 input {!r} is not a file: pass the model.h5 written next to "
                            "the SavedModel, or leave it out".format(field, path))


def saved_model_input_size(tf, path):
    """The image size (height) of a SavedModel's serving signature, read from saved_model.pb
    without loading the model (loading one takes seconds, and the converter loads it again)."""
    try:
        from tensorflow.core.protobuf import saved_model_pb2

        document = saved_model_pb2.SavedModel()
        with open(os.path.join(path, "saved_model.pb"), "rb") as handle:
            document.ParseFromString(handle.read())
        for graph in document.meta_graphs:
            if "serving_default" in graph.signature_def:
                inputs = graph.signature_def["serving_default"].inputs
                dims = [dim.size for dim in list(inputs.values())[0].tensor_shape.dim]
                if len(dims) == 4 and dims[1] > 0:
                    return int(dims[1])
    except Exception:  # noqa: BLE001 - an unexpected layout: load the model instead
        pass
    loaded = tf.saved_model.load(path)
    signature = loaded.signatures["serving_default"]
    return int(list(signature.structured_input_signature[1].values())[0].shape[1])


def first_line(error):
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__


def _suffixed(path, fmt):
    """Keras picks its .keras reader by the file name's suffix: a mounted input has none, so
    it is read through a symlink that has one (no copy of the model)."""
    if fmt != "keras" or path.endswith(".keras"):
        return path
    link = os.path.join(tempfile.mkdtemp(prefix="model-"), "model.keras")
    os.symlink(os.path.abspath(path), link)
    return link


def load_keras(keras, path, role="model", custom_objects=None):
    fmt = keras_format(path)
    keras3 = compat.keras3_module() if fmt == "keras" and compat.written_by_keras3(path) else None
    if keras3 is not None:
        # A Keras 3 file on a stack that has Keras 3 beside tf_keras: Keras 3 loads it (fp16,
        # int8 and benchmarks take it; pruning and distillation refuse it: compat.is_keras3).
        keras, known = keras3, dict(custom_objects or {})
    else:
        # keras.applications' own layers (ConvNeXt's LayerScale...) are no Keras built-ins.
        known = architectures.application_layers(keras)
        known.update(custom_objects or {})
    try:
        return keras.models.load_model(_suffixed(path, fmt), compile=False,
                                       custom_objects=known)
    except Exception as error:  # Keras raises many kinds for a file it cannot read
        raise JobInputError("cannot load the {} at {} as a Keras model: {}{}".format(
            role, path, first_line(error), compat.load_hint(fmt, keras, path)))


def refuse_keras3(model, role, path, doing):
    """One line for a Keras 3 model where the job needs Keras 2 (tfmot, the Keras 2 loops)."""
    if compat.is_keras3(model):
        raise JobInputError(
            "the {} at {} was written by Keras {}: {} needs a Keras 2 model (tfmot and the "
            "training loops here are tf_keras's); save it with tf_keras (or as .h5 from Keras "
            "2), or quantize and benchmark it only".format(
                role, path, compat.keras_zip_version(path) or "3", doing))


def load_input(keras, spec, field, role="model"):
    """(model, format, seconds): the spec's .h5 copy of a model when it has one (``field``_h5),
    else the model itself (a SavedModel, or a user's .keras or .h5 file). The .h5 copy
    rebuilds the same layers with the same weights; it loads in about 1.5 s against 6-22 s
    for the SavedModel (bench/handoff_formats.py, docs/benchmarks.md). A user's custom layers
    (the spec's ``custom_objects`` file) are imported here, inside the container."""
    handoff = (spec.get(field + "_h5") or {}).get("path")
    path = handoff or spec[field]["path"]
    started = time.perf_counter()
    model = load_keras(keras, path, role, user_code.custom_objects(spec))
    return model, keras_format(path), time.perf_counter() - started


def save(model, out_dir, name=SAVED_MODEL_DIR):
    """The SavedModel: the paper's format, whose size is a metric and which users deploy."""
    path = os.path.join(out_dir, name)
    model.save(path, include_optimizer=False)
    return path


def save_handoff(model, out_dir):
    """The .h5 copy the next jobs load (a tenth of a SavedModel's load time, same outputs);
    its artifact entry (named HANDOFF_ARTIFACT) tells the launcher to hand it on."""
    model.save(os.path.join(out_dir, HANDOFF_FILE), include_optimizer=False)
    return (HANDOFF_ARTIFACT, "file", HANDOFF_FILE)


def time_saved_model_load(keras, path):
    """Seconds to load the SavedModel just written, as the jobs that take the .h5 copy do not:
    the paper's compression time starts with this load (docs/methodology.md)."""
    started = time.perf_counter()
    load_keras(keras, path)
    return time.perf_counter() - started


def gzip_bytes(path):
    """Bytes after gzip, as the paper measures pruned models: a file is gzipped as it is, a
    folder as a tar with fixed metadata (so the figure depends only on the content)."""
    buffer = io.BytesIO()
    with gzip.GzipFile(fileobj=buffer, mode="wb", compresslevel=9, mtime=0) as archive:
        if os.path.isfile(path):
            with open(path, "rb") as handle:
                archive.write(handle.read())
        else:
            with tarfile.open(fileobj=archive, mode="w") as tar:
                for folder, dirs, files in os.walk(path):
                    dirs.sort()
                    for name in sorted(files):
                        full = os.path.join(folder, name)
                        info = tar.gettarinfo(full, arcname=os.path.relpath(full, path))
                        info.mtime, info.uid, info.gid, info.uname, info.gname = 0, 0, 0, "", ""
                        with open(full, "rb") as handle:
                            tar.addfile(info, handle)
    return len(buffer.getvalue())


def weight_counts(model):
    """(parameters, non-zero parameters) over every weight of a Keras model."""
    import numpy as np

    total = nonzero = 0
    for weight in model.weights:
        values = weight.numpy()
        total += int(values.size)
        nonzero += int(np.count_nonzero(values))
    return total, nonzero
