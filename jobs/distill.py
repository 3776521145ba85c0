"""distill: knowledge distillation from a trained teacher into a student (default
MobileNetV3Small), as the Keras distillation example defines it:

    loss = alpha * CE(y, softmax(s)) + (1 - alpha) * KL(softmax(t / T) || softmax(s / T)) * T^2

with the teacher run on the same batch as the student, in inference mode. A saved teacher
ends in softmax; its logits are recovered as log(p), which softmax(. / T) cannot tell from the
original logits (they differ by a constant per example).
"""
import time

from jobs import architectures, data, models
from jobs.contract import Outcome
from jobs.errors import JobInputError

EPSILON = 1e-12


def check(spec):
    models.check_saved_model("teacher", spec.get("teacher"))
    architectures.check_name(spec.get("student"))
    temperature = spec.get("temperature")
    if not isinstance(temperature, (int, float)) or temperature <= 0:
        raise JobInputError("temperature {!r} must be greater than 0".format(temperature))
    alpha = spec.get("alpha")
    if not isinstance(alpha, (int, float)) or not 0 <= alpha <= 1:
        raise JobInputError("alpha {!r} must be between 0 and 1".format(alpha))
    data.check(spec)


def ends_in_softmax(model):
    config = model.layers[-1].get_config()
    return config.get("activation") == "softmax" or type(model.layers[-1]).__name__ == "Softmax"


def run(spec, context):
    tf, keras = context.tf, context.keras
    tf.random.set_seed(spec["seed"])
    teacher = models.load_keras(keras, spec["teacher"]["path"], role="teacher")
    teacher.trainable = False
    size = int(teacher.input_shape[1])
    splits = data.load_splits(tf, spec)
    classes = int(teacher.output_shape[-1])
    if classes != splits.num_classes:
        raise JobInputError("the teacher has {} outputs but the data has {} classes".format(
            classes, splits.num_classes))
    batch = spec["batch_size"]
    train = data.batches(tf, splits.train, size, batch, shuffle_seed=spec["seed"])
    validation = data.batches(tf, splits.validation, size, batch)
    has_validation = data.count(splits.validation) > 0

    student = architectures.build_classifier(keras, spec["student"], size, classes,
                                             spec["student_weights"], logits=True)
    if spec.get("bn_momentum"):
        architectures.set_bn_momentum(keras, student, spec["bn_momentum"])
    softmax_teacher = ends_in_softmax(teacher)
    alpha, temperature = float(spec["alpha"]), float(spec["temperature"])
    optimizer = keras.optimizers.Adam(spec["learning_rate"])
    hard_loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    soft_loss = keras.losses.KLDivergence()
    train_accuracy = keras.metrics.SparseCategoricalAccuracy()
    val_accuracy = keras.metrics.SparseCategoricalAccuracy()

    @tf.function
    def train_step(images, labels):
        teacher_out = teacher(images, training=False)
        teacher_logits = tf.math.log(teacher_out + EPSILON) if softmax_teacher else teacher_out
        with tf.GradientTape() as tape:
            student_logits = student(images, training=True)
            loss = alpha * hard_loss(labels, student_logits) + (1.0 - alpha) * soft_loss(
                tf.nn.softmax(teacher_logits / temperature),
                tf.nn.softmax(student_logits / temperature)) * temperature ** 2
        variables = student.trainable_variables
        optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables))
        train_accuracy.update_state(labels, student_logits)
        return loss

    @tf.function
    def eval_step(images, labels):
        val_accuracy.update_state(labels, student(images, training=False))

    samples = {"loss": [], "accuracy": [], "val_accuracy": []}
    started = time.time()
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
    path = models.save(final, context.out_dir)
    return Outcome(
        metrics={
            "distill_s": distill_s,
            "epochs": spec["epochs"],
            "teacher_parameters": int(teacher.count_params()),
            "student_parameters": int(final.count_params()),
            "saved_model_bytes": models.path_bytes(path),
            "final_validation_accuracy": (samples["val_accuracy"][-1] if has_validation
                                          else None),
        },
        artifacts=[("model", "saved_model", models.SAVED_MODEL_DIR)],
        samples=samples,
    )
