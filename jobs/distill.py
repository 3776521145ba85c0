"""distill: knowledge distillation from a trained teacher into a student (default
MobileNetV3Small), as the Keras distillation example defines it:

    loss = alpha * CE(y, softmax(s)) + (1 - alpha) * KL(softmax(t / T) || softmax(s / T)) * T^2

with the teacher run on the same batch as the student, in inference mode. ``t`` are the
teacher's true logits: the pre-softmax output of its Dense head (head.input @ kernel + bias,
whatever activation the head carries, so models stored with a softmax head serve as they are).
Logits recovered as log(p) would not do: float32 softmax outputs cap the gaps between logits
at about 27.6 (log 1e-12), which at T = 10 flattens the soft targets the student learns from.

The student trains under ``student_regime`` (jobs/architectures.py), the scratch baseline's.

Compression time: ``load_s`` (loading the teacher and setting up the student, the paper's
order), ``distill_s`` (the distillation loop: every epoch's training and validation),
``save_s`` (the SavedModel) and their sum.
"""
import time

from jobs import architectures, data, models, pretrained
from jobs.contract import Outcome
from jobs.errors import JobInputError
from jobs.sizes import path_bytes

SOFTMAX_CHECK_ATOL = 1e-5  # the logits read must give back the teacher's own probabilities


def check(spec):
    models.check_model("teacher", spec.get("teacher"))
    models.check_handoff(spec, "teacher")
    architectures.check_form(spec.get("student"))
    pretrained.check_spec(spec, "student_weights", "student_weights_file")
    architectures.check_regime(spec.get("student_regime"), "student_regime")
    temperature = spec.get("temperature")
    if not isinstance(temperature, (int, float)) or temperature <= 0:
        raise JobInputError("temperature {!r} must be greater than 0".format(temperature))
    alpha = spec.get("alpha")
    if not isinstance(alpha, (int, float)) or not 0 <= alpha <= 1:
        raise JobInputError("alpha {!r} must be between 0 and 1".format(alpha))
    data.check(spec)


def dense_logits(matmul, features, kernel, bias):
    """A Dense layer's pre-activation output: features @ kernel + bias (bias may be None)."""
    out = matmul(features, kernel)
    return out if bias is None else out + bias


def soft_targets(softmax, logits, temperature):
    """The teacher's soft targets: softmax(logits / T)."""
    return softmax(logits / temperature)


def ends_in_softmax(layer):
    return (type(layer).__name__ == "Softmax"
            or layer.get_config().get("activation") == "softmax")


def head_layer(keras, model):
    """The Dense head: the layer named 'head' (every model the jobs build), else a Dense last
    layer; None when there is neither."""
    for layer in model.layers:
        if layer.name == architectures.HEAD and isinstance(layer, keras.layers.Dense):
            return layer
    last = model.layers[-1]
    return last if isinstance(last, keras.layers.Dense) else None


def logits_reader(tf, keras, model):
    """(kind, function images -> the model's logits in inference mode). kind: "head" (the
    Dense head's pre-activation), "softmax_input" (the input of a final Softmax layer) or
    "output" (a model that does not end in softmax)."""
    head = head_layer(keras, model)
    if head is not None:
        features = keras.Model(model.input, head.input)
        kernel, bias = head.kernel, head.bias if head.use_bias else None

        def from_head(images):
            return dense_logits(tf.matmul, features(images, training=False), kernel, bias)
        return "head", from_head
    last = model.layers[-1]
    if type(last).__name__ == "Softmax":
        inner = keras.Model(model.input, last.input)
        return "softmax_input", lambda images: inner(images, training=False)
    if not ends_in_softmax(last):
        return "output", lambda images: model(images, training=False)
    raise JobInputError("cannot reach the teacher's logits: it ends in a softmax with no Dense "
                        "head or Softmax layer before it")


def check_logits(tf, model, kind, read, images):
    """The logits read must be the model's: they give back its output (through the softmax it
    ends in, if it does)."""
    if kind == "output":
        return
    import numpy as np

    expected = model(images, training=False).numpy()
    got = read(images)
    if ends_in_softmax(model.layers[-1]):
        got = tf.nn.softmax(got)
    got = got.numpy()
    if not np.allclose(got, expected, atol=SOFTMAX_CHECK_ATOL):
        raise JobInputError("the teacher's {} logits do not give back its output (max "
                            "difference {:.2e}): its head is not its last step".format(
                                kind, float(np.max(np.abs(got - expected)))))


def run(spec, context):
    tf, keras = context.tf, context.keras
    tf.random.set_seed(spec["seed"])
    started = time.time()
    teacher, input_format, input_load_s = models.load_input(keras, spec, "teacher", "teacher")
    models.refuse_keras3(teacher, "teacher", spec["teacher"]["path"], "distillation")
    teacher.trainable = False
    size = int(teacher.input_shape[1])
    classes = int(teacher.output_shape[-1])
    student = architectures.build_classifier(
        keras, spec["student"], size, classes, spec["student_weights"], logits=True,
        weights_file=(spec.get("student_weights_file") or {}).get("path"),
        canonical=spec.get("canonical", False))
    architectures.apply_regime(keras, student, spec["student_regime"])
    if spec.get("bn_momentum"):
        architectures.set_bn_momentum(keras, student, spec["bn_momentum"])
    load_s = time.time() - started

    splits = data.load_splits(tf, spec)
    if classes != splits.num_classes:
        raise JobInputError("the teacher has {} outputs but the data has {} classes".format(
            classes, splits.num_classes))
    batch = spec["batch_size"]
    train = data.batches(tf, splits.train, size, batch, shuffle_seed=spec["seed"])
    validation = data.batches(tf, splits.validation, size, batch)
    has_validation = data.count(splits.validation) > 0

    logits_kind, teacher_logits = logits_reader(tf, keras, teacher)
    check_logits(tf, teacher, logits_kind, teacher_logits,
                 next(iter(validation if has_validation else train))[0])
    alpha, temperature = float(spec["alpha"]), float(spec["temperature"])
    optimizer = keras.optimizers.Adam(spec["learning_rate"])
    hard_loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    soft_loss = keras.losses.KLDivergence()
    train_accuracy = keras.metrics.SparseCategoricalAccuracy()
    val_accuracy = keras.metrics.SparseCategoricalAccuracy()

    @tf.function
    def train_step(images, labels):
        targets = soft_targets(tf.nn.softmax, teacher_logits(images), temperature)
        with tf.GradientTape() as tape:
            student_logits = student(images, training=True)
            loss = alpha * hard_loss(labels, student_logits) + (1.0 - alpha) * soft_loss(
                targets, soft_targets(tf.nn.softmax, student_logits, temperature)
            ) * temperature ** 2
        variables = student.trainable_variables
        optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables))
        train_accuracy.update_state(labels, student_logits)
        return loss

    @tf.function
    def eval_step(images, labels):
        val_accuracy.update_state(labels, student(images, training=False))

    samples = {"loss": [], "accuracy": [], "val_accuracy": []}
    started = time.time()
    with architectures.frozen_in_inference_mode(keras, student) as quieted:
        for epoch in range(spec["epochs"]):
            train_accuracy.reset_states()
            losses = [float(train_step(images, labels)) for images, labels in train]
            samples["loss"].append(sum(losses) / len(losses))
            samples["accuracy"].append(float(train_accuracy.result()))
            line = "epoch {}/{} loss {:.4f} accuracy {:.4f}".format(
                epoch + 1, spec["epochs"], samples["loss"][-1], samples["accuracy"][-1])
            if has_validation:
                val_accuracy.reset_states()
                for images, labels in validation:
                    eval_step(images, labels)
                samples["val_accuracy"].append(float(val_accuracy.result()))
                line += " val_accuracy {:.4f}".format(samples["val_accuracy"][-1])
            print(line, flush=True)
    distill_s = time.time() - started
    if not has_validation:
        del samples["val_accuracy"]

    # Saved with a softmax on top, like every other model the jobs write.
    probabilities = keras.layers.Softmax(name="probabilities")(student.output)
    final = keras.Model(student.input, probabilities, name=student.name)
    handoff = models.save_handoff(final, context.out_dir)
    return Outcome(
        metrics={
            "load_s": load_s,
            "distill_s": distill_s,
            "input_format": input_format,
            "input_load_s": input_load_s,
            "student_regime": spec["student_regime"],
            "trainable_parameters": architectures.trainable_parameters(student),
            "frozen_dropout_quieted": quieted,
            "fingerprint": architectures.fingerprint(final),
            "teacher_logits": logits_kind,
            "epochs": spec["epochs"],
            "teacher_parameters": int(teacher.count_params()),
            "student_parameters": int(final.count_params()),
            "final_validation_accuracy": (samples["val_accuracy"][-1] if has_validation
                                          else None),
        },
        saved_model=final,
        artifacts=[("model", "saved_model", models.SAVED_MODEL_DIR), handoff],
        samples=samples,
    )



def saved(spec, metrics, path, save_s, keras):
    """The metrics of the SavedModel the contract wrote (jobs/contract.py)."""
    metrics.update({
        "save_s": save_s,
        "compression_total_s": metrics["load_s"] + metrics["distill_s"] + save_s,
        "saved_model_bytes": path_bytes(path),
    })
    return metrics
