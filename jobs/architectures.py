"""The keras.applications networks: any this stack's Keras provides, by the name of its
keras.applications function (the launcher's table lists them per stack:
launcher/applications_table.json).

Models take raw RGB pixels in [0, 255], whatever the network: each family's
``preprocess_input`` becomes weightless layers in front of the backbone, so every job and every
exported model (SavedModel, TFLite) is fed the same way. The mode is read from Keras itself
(``preprocessing``), not from a list of families. The model is built flat (the backbone's layers,
not a nested model) because tfmot's clone-based pruning only sees top-level layers.
"""
import contextlib
import hashlib
import inspect
import json

from jobs import compat, pretrained
from jobs._contract import TRAINING_REGIMES
from jobs.errors import JobInputError

HEAD = "head"  # the name of every classifier's new Dense head

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
CAFFE_MEAN_BGR = (103.939, 116.779, 123.68)
# How a family's preprocess_input maps [0, 255] RGB pixels (keras.applications.imagenet_utils):
# inside: the network rescales inside itself (EfficientNet, MobileNetV3, ConvNeXt, RegNet...);
# tf: to [-1, 1]; torch: ImageNet mean/std; caffe: BGR order, ImageNet mean subtracted.
PREPROCESSING = ("inside", "tf", "torch", "caffe")
PREPROCESSING_LAYER = {"tf": "scale_to_unit", "torch": "imagenet_norm", "caffe": "caffe_mean"}


def available(keras):
    """The network constructors of this Keras's keras.applications, by name."""
    return sorted(name for name in dir(keras.applications)
                  if name[:1].isupper() and inspect.isfunction(getattr(keras.applications, name)))


def application_layers(keras):
    """The layer classes keras.applications defines for its own networks (ConvNeXt's
    LayerScale and StochasticDepth): a saved model of such a network loads only with them."""
    found = {}
    for name in available(keras):
        module = inspect.getmodule(getattr(keras.applications, name))
        for attr, value in vars(module).items():
            if (inspect.isclass(value) and issubclass(value, keras.layers.Layer)
                    and value.__module__ == module.__name__):
                found[attr] = value
    return found


def check_form(name):
    """Before TensorFlow is imported: a name keras.applications could have. Whether this stack
    has it is ``check_name``'s, once Keras is loaded."""
    if not (isinstance(name, str) and name[:1].isupper() and name.isalnum() and len(name) < 64):
        raise JobInputError("architecture {!r} is not a keras.applications name (such as "
                            "MobileNetV3Small)".format(name))


def check_name(keras, name):
    if name not in available(keras):
        raise JobInputError(
            "keras.applications of Keras {} has no {!r} (`edgecompress run train --help` lists "
            "the networks of each stack)".format(compat.keras_version(keras), name))


def _expected(mode, pixels):
    import numpy as np

    if mode == "inside":
        return pixels
    if mode == "tf":
        return pixels / 127.5 - 1.0
    if mode == "torch":
        return (pixels / 255.0 - np.array(IMAGENET_MEAN)) / np.array(IMAGENET_STD)
    return pixels[..., ::-1] - np.array(CAFFE_MEAN_BGR)


def classify_preprocessing(preprocess_input):
    """Which of PREPROCESSING ``preprocess_input`` computes, tried on fixed pixels."""
    import numpy as np

    pixels = np.array([[[[0, 0, 0], [255, 255, 255], [10, 100, 200], [200, 50, 25]]]],
                      dtype="float32")
    got = np.asarray(preprocess_input(pixels.copy()), dtype="float64")
    for mode in PREPROCESSING:
        expected = _expected(mode, pixels.astype("float64"))
        if got.shape == expected.shape and np.allclose(got, expected, atol=1e-3):
            return mode
    raise JobInputError("preprocess_input maps pixels in none of the known ways ({})".format(
        ", ".join(PREPROCESSING)))


def preprocessing(keras, name):
    return classify_preprocessing(inspect.getmodule(getattr(keras.applications, name))
                                  .preprocess_input)


def _preprocessing_layer(keras, mode, x):
    if mode == "inside":
        return x
    if mode == "tf":
        scale, offset = 1.0 / 127.5, -1.0
    elif mode == "torch":
        scale = [1.0 / (255.0 * s) for s in IMAGENET_STD]
        offset = [-m / s for m, s in zip(IMAGENET_MEAN, IMAGENET_STD)]
    else:  # caffe: the mean here, in RGB order; the BGR order is the first kernel's (below)
        scale, offset = 1.0, [-m for m in reversed(CAFFE_MEAN_BGR)]
    # One weightless layer: a layer with weights here (Normalization) would shift the topology
    # that ImageNet weight files load into.
    return keras.layers.Rescaling(scale=scale, offset=offset,
                                  name=PREPROCESSING_LAYER[mode])(x)


def read_rgb_as_bgr(keras, model):
    """Caffe-mode networks were trained on BGR inputs. Rather than a channel-reversing layer
    (Keras has no weightless one that serialises), the first convolution's kernel has its input
    channels reversed: conv(reverse(x), W) == conv(x, reverse_in(W)), exactly. Returns its
    name."""
    for layer in model.layers:
        if isinstance(layer, keras.layers.Conv2D) and int(layer.kernel.shape[2]) == 3:
            layer.kernel.assign(layer.kernel[:, :, ::-1, :])
            return layer.name
    raise RuntimeError("{} has no convolution reading the 3 image channels".format(model.name))


def build_classifier(keras, name, input_size, num_classes, weights, logits=False,
                     weights_file=None, canonical=False):
    """Backbone (no top, global average pooling) plus a new head named 'head'. With
    ``weights="imagenet"`` the backbone is the network that Keras builds for ImageNet weights,
    loaded from ``weights_file`` (jobs/pretrained.py). ``canonical``: the network Keras >= 2.10
    builds, on any Keras (compat.canonical_backbone)."""
    check_name(keras, name)
    mode = preprocessing(keras, name)
    inputs = keras.Input(shape=(input_size, input_size, 3), name="image")
    x = _preprocessing_layer(keras, mode, inputs)
    with (pretrained.from_file(keras, name, weights_file) if weights == "imagenet"
          else _nothing()):
        backbone = getattr(keras.applications, name)(
            include_top=False, weights=weights, input_tensor=x, pooling="avg")
    if mode == "caffe":
        read_rgb_as_bgr(keras, backbone)
    if canonical:
        rebuilt = compat.canonical_backbone(keras, name, backbone, weights)
        if rebuilt is not backbone:
            backbone, inputs = rebuilt, rebuilt.inputs[0]
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
        shape = compat.output_shape(layer)
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
