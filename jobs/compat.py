"""Every difference between the TensorFlow versions jobs/ runs on, in one place.

Nano: Python 3.6, TF 2.7 (Keras 2 inside TF).  Xavier: Python 3.8, TF 2.12 (Keras 2.12).
Current: TF >= 2.16 ships Keras 3, which tfmot rejects, so Keras 2 comes from ``tf_keras``.
"""
import os


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
