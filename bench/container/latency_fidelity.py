"""Runs inside the job image (bench/latency_fidelity.py starts it): the benchmark job's timed
loop against a bare loop and against Keras predict() per image, alternating, same model, same
preloaded inputs, same process."""
import json
import sys
import time

from jobs import benchmark, compat

tf = compat.import_tensorflow()
keras = compat.keras_module(tf)
saved_model, tflite, images_n, rounds = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(
    sys.argv[4])


def per_image_ms(loop, images):
    started = time.perf_counter()
    loop(images)
    return (time.perf_counter() - started) * 1000.0 / len(images)


def median(values):
    values = sorted(values)
    return (values[(len(values) - 1) // 2] + values[len(values) // 2]) / 2.0


report = {}
# SavedModel: the job's KerasRunner vs a bare tf.function loop vs predict() per image.
runner = benchmark.KerasRunner(tf, keras, saved_model)
rng = tf.random.uniform((images_n, 1, runner.size, runner.size, 3), 0, 255, seed=1)
images = [rng[i] for i in range(images_n)]
bare = tf.function(lambda x: runner.model(x, training=False))


def job_loop(batch):
    return benchmark.latency_runs(runner, batch, 1)


def bare_loop(batch):
    out = None
    for x in batch:
        out = bare(x)
    out.numpy()


def predict_loop(batch):
    for x in batch:
        runner.model.predict(x, verbose=0) if compat.tf_version_tuple(tf) >= (2, 9) else \
            runner.model.predict(x)


for loop in (job_loop, bare_loop, predict_loop):  # warm-up: traces and caches
    loop(images[:5])
samples = {"job": [], "bare": [], "predict": []}
for _ in range(rounds):
    samples["job"].append(per_image_ms(job_loop, images))
    samples["bare"].append(per_image_ms(bare_loop, images))
    samples["predict"].append(per_image_ms(predict_loop, images[: max(10, images_n // 10)]))
report["saved_model"] = {k: median(v) for k, v in samples.items()}

# TFLite: the job's TFLiteRunner vs a bare Interpreter.invoke loop.
lite = benchmark.TFLiteRunner(tf, tflite, None)
lite_images = [lite.prepare(x.numpy()) for x in images]
interpreter = compat.tflite_interpreter(tf, model_path=tflite)
interpreter.allocate_tensors()
index = interpreter.get_input_details()[0]["index"]


def lite_job(batch):
    return benchmark.latency_runs(lite, batch, 1)


def lite_bare(batch):
    for x in batch:
        interpreter.set_tensor(index, x)
        interpreter.invoke()


for loop in (lite_job, lite_bare):
    loop(lite_images[:5])
lite_samples = {"job": [], "bare": []}
for _ in range(rounds):
    lite_samples["job"].append(per_image_ms(lite_job, lite_images))
    lite_samples["bare"].append(per_image_ms(lite_bare, lite_images))
report["tflite"] = {k: median(v) for k, v in lite_samples.items()}
print(json.dumps(report))
