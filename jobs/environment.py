"""What a job ran on: versions, CPU, memory, GPUs, and the Jetson's L4T release and board."""
import os
import platform
import re

from jobs import compat
from jobs._contract import ENV_IMAGE_ID, ENV_JETPACK, ENV_JETSON_CLOCKS, ENV_POWER_MODE

NV_TEGRA_RELEASE = "/etc/nv_tegra_release"
DEVICE_TREE_MODEL = "/proc/device-tree/model"


def read_text(path):
    try:
        with open(path, "rb") as handle:
            return handle.read().decode("utf-8", "replace")
    except (IOError, OSError):
        return None


def cpu_model(cpuinfo):
    if not cpuinfo:
        return None
    for key in ("model name", "Model", "Hardware", "CPU part"):
        match = re.search(r"^{}\s*:\s*(.+)$".format(re.escape(key)), cpuinfo, re.MULTILINE)
        if match:
            return match.group(1).strip()
    return None


def memory_total_bytes(meminfo):
    match = re.search(r"^MemTotal:\s+(\d+) kB", meminfo or "", re.MULTILINE)
    return int(match.group(1)) * 1024 if match else None


def l4t_release(text):
    """'# R32 (release), REVISION: 7.1, ...' -> 'R32.7.1'."""
    match = re.search(r"#\s*R(\d+)\s*\(release\),\s*REVISION:\s*([\d.]+)", text or "")
    return "R{}.{}".format(match.group(1), match.group(2)) if match else None


def collect(tf, keras):
    gpus = []
    try:
        gpus = [device.name for device in tf.config.list_physical_devices("GPU")]
    except Exception:  # noqa: BLE001 - a broken CUDA setup must not lose the result
        gpus = []
    board = read_text(DEVICE_TREE_MODEL)
    return {
        "python": platform.python_version(),
        "tensorflow": tf.__version__,
        "keras": compat.keras_version(keras),
        "tfmot": compat.package_version("tensorflow-model-optimization"),
        "tfds": compat.package_version("tensorflow-datasets"),
        "numpy": compat.package_version("numpy"),
        "machine": platform.machine(),
        "cpu_model": cpu_model(read_text("/proc/cpuinfo")),
        "cpu_count": os.cpu_count() or 1,
        "memory_total_bytes": memory_total_bytes(read_text("/proc/meminfo")),
        "gpus": gpus,
        "l4t_release": l4t_release(read_text(NV_TEGRA_RELEASE)),
        "board": board.strip("\x00 \n") if board else None,
        # The launcher reads these on the host (launcher/device/preflight.py, runner.py) and
        # passes them in.
        "power_mode": os.environ.get(ENV_POWER_MODE) or None,
        "jetpack": os.environ.get(ENV_JETPACK) or None,
        "jetson_clocks": {"1": True, "0": False}.get(os.environ.get(ENV_JETSON_CLOCKS, "")),
        "image_id": os.environ.get(ENV_IMAGE_ID) or None,
    }


# cgroup v1 and v2 names of the container's peak memory (v2's memory.peak needs Linux 5.19).
CGROUP_PEAK_FILES = ("/sys/fs/cgroup/memory/memory.max_usage_in_bytes",
                     "/sys/fs/cgroup/memory.peak")


def peak_memory():
    import resource

    # ru_maxrss is in kilobytes on Linux.
    peak_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    cgroup_peak = None
    for path in CGROUP_PEAK_FILES:
        text = read_text(path)
        if text and text.strip().isdigit():
            cgroup_peak = int(text.strip())
            break
    return {"peak_rss_bytes": peak_rss, "cgroup_peak_bytes": cgroup_peak}
