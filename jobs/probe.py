"""probe: the environment block of the result is the payload; the metrics say what TF sees."""
from jobs.contract import Outcome


def run(spec, context):
    gpus = context.tf.config.list_physical_devices("GPU")
    return Outcome(metrics={"gpu_count": len(gpus)})
