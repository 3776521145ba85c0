"""The keras.applications models of the study: one entry per architecture.

Each entry names the constructor and whether the model carries its own preprocessing
(MobileNetV3 and EfficientNet rescale inside the model; DenseNet expects its
``preprocess_input`` to have been applied).
"""
from jobs.errors import JobInputError

ARCHITECTURES = {
    # name: (keras.applications attribute, preprocessing module or None when built in)
    "MobileNetV3Small": ("MobileNetV3Small", None),
    "MobileNetV3Large": ("MobileNetV3Large", None),
    "EfficientNetB1": ("EfficientNetB1", None),
    "EfficientNetB3": ("EfficientNetB3", None),
    "DenseNet169": ("DenseNet169", "densenet"),
    "DenseNet201": ("DenseNet201", "densenet"),
}


def check_name(name):
    if name not in ARCHITECTURES:
        raise JobInputError("unknown architecture {!r}: choose one of {}".format(
            name, ", ".join(sorted(ARCHITECTURES))))


def build_classifier(keras, name, input_size, num_classes, weights):
    """keras.applications backbone (no top, global average pooling) plus a new softmax head."""
    check_name(name)
    constructor = getattr(keras.applications, ARCHITECTURES[name][0])
    backbone = constructor(include_top=False, weights=weights,
                           input_shape=(input_size, input_size, 3), pooling="avg")
    inputs = keras.Input(shape=(input_size, input_size, 3), name="image")
    features = backbone(inputs)
    outputs = keras.layers.Dense(num_classes, activation="softmax", name="head")(features)
    return keras.Model(inputs, outputs, name="{}_{}".format(name, num_classes))
