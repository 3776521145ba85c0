"""Threads, made explicit: how many the benchmark runs with, set for both TFLite and
TensorFlow, and what the runtimes then report.

Default: the CPUs the container may use (its affinity mask, capped by a cgroup CPU quota):
what TensorFlow's intra-op pool takes by default anyway, 4 on a Jetson Nano and 6 on a Xavier
NX, and what the x86 twins give a job. TFLite's own default (num_threads unset) differs
between versions and delegates, so it is never left to it. TensorFlow's intra-op pool gets the
same count and its inter-op pool 1: TFLite runs one operator at a time with num_threads
threads, so a twin's SavedModel and .tflite run the same way on the same count.
"""
import os
import sys
import tempfile

CGROUP_V2_CPU_MAX = "/sys/fs/cgroup/cpu.max"
CGROUP_V1_QUOTA = "/sys/fs/cgroup/cpu/cpu.cfs_quota_us"
CGROUP_V1_PERIOD = "/sys/fs/cgroup/cpu/cpu.cfs_period_us"


def _read(path):
    try:
        with open(path) as handle:
            return handle.read().strip()
    except (IOError, OSError):
        return None


def quota_cpus(cpu_max, quota_us=None, period_us=None):
    """Whole CPUs a cgroup quota allows (rounded up), or None without a quota. ``cpu_max``:
    cgroup v2's "QUOTA PERIOD" or "max PERIOD"; else v1's quota and period."""
    quota = period = None
    if cpu_max:
        parts = cpu_max.split()
        if len(parts) == 2 and parts[0] != "max":
            quota, period = parts
    elif quota_us and period_us and quota_us.strip() != "-1":
        quota, period = quota_us, period_us
    try:
        quota, period = int(quota), int(period)
    except (TypeError, ValueError):
        return None
    if quota <= 0 or period <= 0:
        return None
    return max(1, -(-quota // period))


def container_cpus():
    """The CPUs this process may use: its affinity, capped by the cgroup's quota."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cpus = os.cpu_count() or 1
    quota = quota_cpus(_read(CGROUP_V2_CPU_MAX), _read(CGROUP_V1_QUOTA),
                       _read(CGROUP_V1_PERIOD))
    return max(1, min(cpus, quota) if quota else cpus)


def resolve(spec):
    """(threads, where the count came from)."""
    if spec.get("threads"):
        return int(spec["threads"]), "spec"
    return container_cpus(), "container_cpus"


def set_tensorflow(tf, threads):
    """Intra-op ``threads``, inter-op 1, before TensorFlow's runtime starts; returns what
    tf.config.threading then reports (a runtime already started keeps its pools, and the
    getters say so)."""
    threading = tf.config.threading
    try:
        threading.set_intra_op_parallelism_threads(threads)
        threading.set_inter_op_parallelism_threads(1)
    except RuntimeError as error:  # the runtime was initialised before the job ran
        print("TensorFlow threads not set: {}".format(error))
    return (int(threading.get_intra_op_parallelism_threads()),
            int(threading.get_inter_op_parallelism_threads()))


XNNPACK_LOG = "XNNPACK delegate"


class StderrCapture(object):
    """What the process's file descriptor 2 receives inside the block (TFLite's C++ runtime
    logs "Created TensorFlow Lite XNNPACK delegate for CPU." there, out of Python's reach),
    passed on to the real stderr afterwards."""

    def __enter__(self):
        sys.stderr.flush()
        self.saved = os.dup(2)
        self.file = tempfile.TemporaryFile()
        os.dup2(self.file.fileno(), 2)
        self.text = ""
        return self

    def __exit__(self, *exc):
        sys.stderr.flush()
        os.dup2(self.saved, 2)
        os.close(self.saved)
        self.file.seek(0)
        data = self.file.read()
        self.file.close()
        self.text = data.decode("utf-8", "replace")
        if data:
            os.write(2, data)
        return False


def xnnpack_applied(log_text, op_names):
    """True where TFLite said it applied XNNPACK (its log line, or a delegate node in the
    execution plan), else None: TF 2.7's Python API cannot tell "not applied"."""
    if XNNPACK_LOG in (log_text or ""):
        return True
    if any((name or "").upper() == "DELEGATE" for name in op_names or ()):
        return True
    return None
