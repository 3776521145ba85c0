"""Stand-ins for what these machines lack: tegrastats, a TensorFlow-free job image, a Swarm of
docker-in-docker nodes, Keras's ImageNet weights files; and events that show nothing. Shared by
the tests and the benchmarks (never part of the installed launcher): run from the checkout's
root, as `python -m pytest` and `python -m bench.NAME` are, where it is importable."""

from pathlib import Path

HERE = Path(__file__).resolve().parent
# Run as scripts (in a subprocess, or inside a job image), not imported.
TEGRASTATS = HERE / "tegrastats.py"  # replays recorded tegrastats lines
IMAGENET_STUBS = HERE / "imagenet_stubs.py"  # stub ImageNet weights files, made in a job image
