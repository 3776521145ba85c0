"""Every difference between the TensorFlow versions jobs/ runs on, in one place.

Nano: Python 3.6, TF 2.7 (Keras 2 inside TF).  Xavier: Python 3.8, TF 2.12 (Keras 2.12).
Current: TF >= 2.16 ships Keras 3, which tfmot rejects, so Keras 2 comes from ``tf_keras``.
"""
import os
import sys


def import_tensorflow():
    # Must be set before TensorFlow is first imported; it is ignored by TF < 2.16.
    os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
    import tensorflow as tf

    return tf


def tf_version_tuple(tf):
    parts = []
    for piece in tf.__version__.split("+")[0].split(".")[:2]:
        digits = "".join(ch for ch in piece if ch.isdigit())
        parts.append(int(digits or 0))
    return tuple(parts)


def keras_module(tf):
    """The Keras 2 API: tf.keras up to TF 2.15, the tf_keras package from TF 2.16 on."""
    if tf_version_tuple(tf) >= (2, 16):
        import tf_keras

        return tf_keras
    return tf.keras


def keras_version(keras):
    return getattr(keras, "__version__", None)


def package_version(name):
    """Installed version of a distribution, without importing it (tfds takes seconds)."""
    try:
        from importlib import metadata  # novermin (Python >= 3.8)
    except ImportError:
        metadata = None
    if metadata is not None:
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            return None
    import pkg_resources  # Python 3.6/3.7 (the Nano image)

    try:
        return pkg_resources.get_distribution(name).version
    except pkg_resources.DistributionNotFound:
        return None


def tflite_interpreter(tf, **kwargs):
    """tf.lite.Interpreter is deprecated from TF 2.20 in favour of ai-edge-litert."""
    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError:
        Interpreter = tf.lite.Interpreter
    return Interpreter(**kwargs)


def import_tfmot():
    """tfmot follows TF_USE_LEGACY_KERAS (set by import_tensorflow) to pick tf_keras."""
    import tensorflow_model_optimization as tfmot

    return tfmot


def keras_downloads(keras, architecture):
    """The module whose ``get_file`` keras.applications' ``architecture`` calls to download its
    weights. Every Keras 2 line (keras 2.7, keras 2.12, tf_keras 2.21) calls it as an attribute
    of its one ``utils.data_utils`` module: imported into the application's module (most),
    reached through ``utils`` (ConvNeXt), or from another family's module (ResNetV2 through
    resnet's)."""
    import inspect
    import sys

    module = inspect.getmodule(getattr(keras.applications, architecture))
    downloads = getattr(module, "data_utils", None)
    if downloads is not None and hasattr(downloads, "get_file"):
        return downloads
    root = module.__name__.split(".")[0] + "."
    for name in sorted(sys.modules):
        candidate = sys.modules[name]
        if (name.startswith(root) and name.endswith(".utils.data_utils")
                and hasattr(candidate, "get_file")):
            return candidate
    raise RuntimeError("keras.applications.{} downloads through no data_utils.get_file "
                       "in this Keras ({})".format(architecture, keras_version(keras)))


def make_serializable(keras, model):
    """Keras 2.12 builds EfficientNet's ImageNet input correction as
    ``Rescaling(1 / tf.math.sqrt(IMAGENET_STDDEV_RGB))``: an EagerTensor scale, which neither
    the .h5 nor the SavedModel config can hold ("Unable to serialize [2.0896919 ...] to JSON",
    keras-team/keras#17199). Keras 2.13 stores a plain list (#17498): do the same here. The
    layer computes ``inputs * scale`` either way. Returns the names of the layers changed."""
    changed = []
    for layer in model.layers:
        if not isinstance(layer, keras.layers.Rescaling):
            continue
        for name in ("scale", "offset"):
            value = getattr(layer, name)
            if hasattr(value, "numpy"):
                number = value.numpy()
                setattr(layer, name, number.tolist() if getattr(number, "ndim", 0)
                        else float(number))
                changed.append(layer.name)
    return changed


# Keras 2.10 rebuilt two applications: MobileNetV3 without its top no longer keeps the pooled 1x1
# Conv_2, and EfficientNet with ImageNet weights corrects its input after its Normalization
# (tensorflow/tensorflow#49930: the weights file stores the standard deviations as variances).
CANONICAL_KERAS = (2, 10)
IMAGENET_STDDEV_RGB = [0.229, 0.224, 0.225]


def keras_version_tuple(keras):
    parts = (keras_version(keras) or "0.0").split(".")[:2]
    return tuple(int("".join(ch for ch in part if ch.isdigit()) or 0) for part in parts)


def canonical_backbone(keras, name, backbone, weights):
    """``backbone`` (built with ``include_top=False, pooling="avg"``) as Keras >= 2.10 builds
    it, on an older Keras (``canonical``): MobileNetV3 ends at Conv_1's activation, then
    averages (Conv_2 and the pooling before it are dropped, with their weights);
    EfficientNet with ImageNet weights gets the input correction after its Normalization.
    The weights it has are kept. Anything else, or a newer Keras, is returned as it is."""
    if keras_version_tuple(keras) >= CANONICAL_KERAS:
        return backbone
    if name.startswith("MobileNetV3"):
        conv_2 = backbone.get_layer("Conv_2")
        pooled = next(layer for layer in backbone.layers if layer.output is conv_2.input)
        features = keras.layers.GlobalAveragePooling2D(name="avg_pool")(pooled.input)
        return keras.Model(backbone.inputs, features, name=backbone.name)
    if name.startswith("EfficientNet") and not name.startswith("EfficientNetV2") \
            and weights == "imagenet":
        return _with_input_correction(keras, backbone)
    return backbone


def _with_input_correction(keras, backbone):
    """The backbone rebuilt from its config with Keras 2.10's Rescaling after the
    Normalization, every layer's weights copied by name."""
    normalization = next(layer for layer in backbone.layers
                         if isinstance(layer, keras.layers.Normalization))
    config = backbone.get_config()
    correction = normalization.name + "_imagenet_correction"

    def rewired(inbound):
        if isinstance(inbound, list):
            if inbound and inbound[0] == normalization.name and len(inbound) >= 3 \
                    and isinstance(inbound[1], int):
                return [correction] + inbound[1:]
            return [rewired(item) for item in inbound]
        return inbound

    layers = []
    for entry in config["layers"]:
        entry = dict(entry, inbound_nodes=rewired(entry["inbound_nodes"]))
        layers.append(entry)
        if entry["name"] == normalization.name:
            layers.append({
                "class_name": "Rescaling", "name": correction,
                "config": {"name": correction, "trainable": True, "dtype": "float32",
                           "scale": [1.0 / s ** 0.5 for s in IMAGENET_STDDEV_RGB],
                           "offset": 0.0},
                "inbound_nodes": [[[normalization.name, 0, 0, {}]]]})
    config["layers"] = layers
    rebuilt = keras.Model.from_config(config)
    for layer in rebuilt.layers:
        if layer.weights and layer.name != correction:
            layer.set_weights(backbone.get_layer(layer.name).get_weights())
    return rebuilt


def keras_zip_version(path):
    """The Keras version a .keras file was written by (its metadata.json), or None."""
    import json
    import zipfile

    try:
        with zipfile.ZipFile(path) as archive:
            return json.loads(archive.read("metadata.json").decode("utf-8")).get(
                "keras_version")
    except (OSError, KeyError, ValueError, zipfile.BadZipfile):
        return None


def written_by_keras3(path):
    """A .keras file Keras 3 wrote (its metadata.json says so)."""
    version = keras_zip_version(path) if path else None
    return bool(version) and str(version).split(".")[0] == "3"


def keras3_module():
    """Keras 3 where the stack has it beside its Keras 2 (TF >= 2.16 installs the keras
    package; the jobs' Keras 2 is then tf_keras), else None."""
    try:
        import keras as candidate
    except ImportError:
        return None
    return candidate if str(getattr(candidate, "__version__", "")).startswith("3.") else None


def is_keras3(model):
    """A model Keras 3 built or loaded: tfmot (pruning) and the Keras 2 training loops
    (distillation) cannot take it."""
    top = sys.modules.get(type(model).__module__.split(".")[0])
    return str(getattr(top, "__version__", "")).startswith("3.")


def output_shape(layer):
    """A layer's output shape: Keras 2's ``output_shape``; Keras 3 keeps only its output
    tensor's."""
    try:
        return layer.output_shape
    except (AttributeError, RuntimeError):
        output = layer.output
        if isinstance(output, (list, tuple)):
            return [tuple(item.shape) for item in output]
        return tuple(output.shape)


def load_hint(fmt, keras, path=None):
    """What to do about a model file this Keras cannot load, where the format explains it:
    the .keras format exists from Keras 2.12 on, and Keras 3 writes a .keras file Keras 2
    (tf.keras up to TF 2.15, tf_keras after) cannot read."""
    if fmt != "keras":
        return ""
    ours = keras_version(keras) or "?"
    if ours.split(".")[:2] in (["2", str(minor)] for minor in range(12)):
        return (" (a .keras file needs Keras 2.12 or newer; this job has Keras {}: save the "
                "model as .h5 or a SavedModel)".format(ours))
    theirs = keras_zip_version(path) if path else None
    if theirs and theirs.split(".")[0] != ours.split(".")[0]:
        return (" (written by Keras {}, read here with Keras {}, another major version: save "
                "it as .h5 or a SavedModel from a Keras 2 stack, or run it on a stack with "
                "TensorFlow 2.16 or newer, whose jobs load Keras 3 files: x86-tf2.21)".format(
                    theirs, ours))
    return ""
