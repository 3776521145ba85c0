"""The keras.applications models of the study: jobs/_contract.py's ARCHITECTURES, each the
name of its keras.applications function.

Models take raw RGB pixels in [0, 255]: MobileNetV3 and EfficientNet rescale inside
themselves; DenseNet's ``preprocess_input`` (ImageNet mean/std) is added as layers, so every
job and every exported model (SavedModel, TFLite) is fed the same way. The model is built
flat (the backbone's layers, not a nested model) because tfmot's clone-based pruning only
sees top-level layers.
"""
import contextlib
import hashlib
import json

from jobs import compat, pretrained
from jobs._contract import ARCHITECTURES, TRAINING_REGIMES
from jobs.errors import JobInputError

HEAD = "head"  # the name of every classifier's new Dense head

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
# The families whose keras.applications preprocessing is ImageNet mean/std ("torch" mode),
# added in front of the backbone; the others rescale [0, 255] inside themselves.
NORMALISED_FAMILIES = ("DenseNet",)


def check_name(name):
    if name not in ARCHITECTURES:
        raise JobInputError("unknown architecture {!r}: choose one of {}".format(
            name, ", ".join(sorted(ARCHITECTURES))))


def needs_imagenet_normalisation(name):
    return name.startswith(NORMALISED_FAMILIES)


def build_classifier(keras, name, input_size, num_classes, weights, logits=False,
                     weights_file=None):
    """Backbone (no top, global average pooling) plus a new head named 'head'. With
    ``weights="imagenet"`` the backbone is the network that Keras builds for ImageNet weights,
    loaded from ``weights_file`` (jobs/pretrained.py)."""
    check_name(name)
    inputs = keras.Input(shape=(input_size, input_size, 3), name="image")
    x = inputs
    if needs_imagenet_normalisation(name):
        # (x / 255 - mean) / std per channel, as one weightless layer: a layer with weights
        # here (Normalization) would shift the topology that ImageNet weight files load into.
        x = keras.layers.Rescaling(
            scale=[1.0 / (255.0 * s) for s in IMAGENET_STD],
            offset=[-m / s for m, s in zip(IMAGENET_MEAN, IMAGENET_STD)],
            name="imagenet_norm")(x)
    with (pretrained.from_file(keras, name, weights_file) if weights == "imagenet"
          else _nothing()):
        backbone = getattr(keras.applications, name)(
            include_top=False, weights=weights, input_tensor=x, pooling="avg")
    outputs = keras.layers.Dense(num_classes, activation=None if logits else "softmax",
                                 name=HEAD)(backbone.output)
    model = keras.Model(inputs, outputs, name="{}_{}".format(name, num_classes))
    compat.make_serializable(keras, model)
    return model


@contextlib.contextmanager
def _nothing():  # contextlib.nullcontext is Python 3.7+
    yield


def fingerprint(model):
    """What identifies a network across TensorFlow stacks: its parameter count, layer count,
    and a sha256 over every layer's class and output shape, in order. Two stacks that build
    different networks under one name (Keras 2.7's MobileNetV3 keeps Conv_2; its EfficientNet
    lacks the ImageNet input correction) get different fingerprints."""
    layers = []
    for layer in model.layers:
        shape = layer.output_shape
        layers.append([type(layer).__name__, json.loads(json.dumps(shape))])
    text = json.dumps(layers, sort_keys=True, separators=(",", ":"))
    return {"parameters": int(model.count_params()), "layers": len(model.layers),
            "sha256": hashlib.sha256(text.encode("utf-8")).hexdigest()}


@contextlib.contextmanager
def frozen_in_inference_mode(keras, model):
    """Within: the frozen layers' Dropout (EfficientNet's stochastic depth) drops nothing, as a
    backbone called with ``training=False`` would (the Keras transfer-learning guide). The
    model is built flat for tfmot, so there is no nested backbone to call that way; frozen
    BatchNormalization already runs in inference mode (Keras 2). The rates come back on exit,
    so the saved model is the one Keras builds. Yields how many layers were quieted."""
    quieted = []
    for layer in model.layers:
        if not layer.trainable and isinstance(layer, keras.layers.Dropout) and layer.rate:
            quieted.append((layer, layer.rate))
            layer.rate = 0.0
    try:
        yield len(quieted)
    finally:
        for layer, rate in quieted:
            layer.rate = rate


def check_regime(regime, field="regime"):
    if regime not in TRAINING_REGIMES:
        raise JobInputError("{} {!r} is not one of {}".format(
            field, regime, ", ".join(TRAINING_REGIMES)))


def trains(regime, is_head, is_batch_norm):
    """Whether a layer trains under a regime (TrainingRegime, launcher/contract/vocabulary.py):
    head: the head alone; full_bn_frozen: every layer but BatchNormalization; full: every
    layer."""
    if regime == "head":
        return is_head
    if regime == "full_bn_frozen":
        return not is_batch_norm
    return True


def apply_regime(keras, model, regime):
    """Set every layer's trainable flag for the regime. A frozen BatchNormalization layer runs in
    inference mode even in a training call (Keras 2 from TF 2.0 on): its moving statistics stay
    what they were. Flags are per layer; set them before compiling."""
    check_regime(regime)
    model.trainable = True
    for layer in model.layers:
        layer.trainable = trains(regime, layer.name == HEAD,
                                 isinstance(layer, keras.layers.BatchNormalization))


def trainable_parameters(model):
    total = 0
    for weight in model.trainable_weights:
        count = 1
        for dim in weight.shape:
            count *= int(dim)
        total += count
    return total


def set_bn_momentum(keras, model, momentum):
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.momentum = momentum
