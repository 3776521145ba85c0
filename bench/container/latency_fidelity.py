"""Runs inside the job image (bench/latency_fidelity.py starts it): the benchmark job's timed
loop against hand-written loops, alternating, same model, same images, same process.

The job holds its images as uint8 and makes each image's input (float32) just before the image's
timed span, outside it. Loops, per image:
  job       jobs.benchmark.latency_runs: prepare (untimed), call, output to the host (timed)
  bare      preloaded float32 tensors: call, output to the host; the run timed whole
  cast_in   uint8 images: cast to float32, call, output to the host; the run timed whole (what
            the job's figure would be with the cast inside the timed loop)
  one_sync  preloaded float32 tensors, the output waited for once per run (the job before
            issue 9: on a GPU consecutive images overlap; on a CPU it should not matter)
  cast      the uint8 -> float32 input alone, no model (what the job leaves out of its spans)
  predict   Keras Model.predict per image (the paper's likely method)
"""
import json
import sys
import time

import numpy as np

from jobs import benchmark, compat

tf = compat.import_tensorflow()
keras = compat.keras_module(tf)
saved_model, tflite, images_n, rounds = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(
    sys.argv[4])


CHUNK = 10  # images per timed block: every loop runs each block in turn, order rotating


def per_image_ms(loop, images):
    started = time.perf_counter()
    result = loop(images)
    elapsed = (time.perf_counter() - started) * 1000.0 / len(images)
    # The job's loop reports its own figure: its timed spans only.
    return result[0][0] if isinstance(result, tuple) else elapsed


def median(values):
    values = sorted(values)
    return (values[(len(values) - 1) // 2] + values[len(values) // 2]) / 2.0


def measure(loops, inputs, rounds):
    """Median per-image ms of each loop over blocks of CHUNK images, the loops interleaved
    block by block (order rotating): on a shared machine, load changes between seconds, not
    between adjacent blocks, so the ratios hold where absolute figures drift."""
    names = list(loops)
    for name in names:  # warm-up: traces and caches
        loops[name](inputs[name][:5])
    samples = dict((name, []) for name in names)
    blocks = 0
    for _ in range(rounds):
        count = min(len(inputs[name]) for name in names)
        for start in range(0, count - CHUNK + 1, CHUNK):
            order = names[blocks % len(names):] + names[:blocks % len(names)]
            blocks += 1
            for name in order:
                samples[name].append(per_image_ms(loops[name],
                                                  inputs[name][start:start + CHUNK]))
    return dict((name, median(values)) for name, values in samples.items())


report = {}
runner = benchmark.KerasRunner(tf, keras, {"model": {"path": saved_model}})
rng = np.random.RandomState(1)
pixels = [rng.randint(0, 256, (1, runner.size, runner.size, 3)).astype(np.uint8)
          for _ in range(images_n)]
floats = [tf.constant(image.astype(np.float32)) for image in pixels]
bare = tf.function(lambda x: runner.model(x, training=False))


def job_loop(batch):
    return benchmark.latency_runs(runner, batch, 1)


def bare_loop(batch):
    for x in batch:
        bare(x).numpy()


def cast_in_loop(batch):
    for image in batch:
        bare(tf.constant(image.astype(np.float32))).numpy()


def one_sync_loop(batch):
    out = None
    for x in batch:
        out = bare(x)
    out.numpy()


def predict_loop(batch):
    for x in batch:
        runner.model.predict(x, verbose=0)


def cast_loop(batch):
    for image in batch:
        runner.prepare(image)


report["saved_model"] = measure(
    {"job": job_loop, "bare": bare_loop, "cast_in": cast_in_loop, "one_sync": one_sync_loop,
     "predict": predict_loop, "cast": cast_loop},
    {"job": pixels, "bare": floats, "cast_in": pixels, "one_sync": floats, "cast": pixels,
     "predict": [image.astype(np.float32) for image in pixels]}, rounds)

# TFLite: the job's TFLiteRunner against hand-written set_tensor / invoke / get_tensor loops.
lite = benchmark.TFLiteRunner(tf, tflite, None)
interpreter = compat.tflite_interpreter(tf, model_path=tflite)
interpreter.allocate_tensors()
index = interpreter.get_input_details()[0]["index"]
output = interpreter.get_output_details()[0]["index"]
lite_floats = [image.astype(np.float32) for image in pixels]


def lite_job(batch):
    return benchmark.latency_runs(lite, batch, 1)


def lite_bare(batch):
    for x in batch:
        interpreter.set_tensor(index, x)
        interpreter.invoke()
        interpreter.get_tensor(output)


def lite_cast_in(batch):
    for image in batch:
        interpreter.set_tensor(index, image.astype(np.float32))
        interpreter.invoke()
        interpreter.get_tensor(output)


def lite_cast(batch):
    for image in batch:
        lite.prepare(image)


report["tflite"] = measure(
    {"job": lite_job, "bare": lite_bare, "cast_in": lite_cast_in, "cast": lite_cast},
    {"job": pixels, "bare": lite_floats, "cast_in": pixels, "cast": pixels}, rounds)
print(json.dumps(report))
