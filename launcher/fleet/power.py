"""Power on a fleet. tegrastats must run on the board, and in a fleet the launcher's host is
not the board: a companion service, pinned to the benchmark's node, runs the sampler for the
length of the job and stamps each line with the board's clock (the clock the job records its
latency runs in). Its output, read through the manager when the job ends, becomes the job's
power.log, which is judged exactly as a local run's (launcher/device/power.py).

The companion runs in the job image as the job user, read-only, every capability dropped,
with the sampler's own files mounted read-only at their paths (on a Jetson, /usr/bin/tegrastats).
The sampler runs under ``script`` (util-linux, in every Debian and Ubuntu image), whose
pseudo-terminal makes C stdio flush every line, as the local sampler's does: through a pipe
tegrastats' lines would come in 4 KB bursts with the wrong times. The job waits for
IDLE_SAMPLES lines before it starts: the idle draw.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import time
import uuid
from pathlib import Path
from types import TracebackType

from launcher.device.power import IDLE_SAMPLES, PowerSampler, Sampling
from launcher.docker_client import ContainerRequest, Mount
from launcher.docker_swarm import NodeInfo, ServiceRequest, SwarmEngine
from launcher.files import unique_temp

# Every line stamped with the board's clock: "<unix seconds> <line>", power.log's format ($1:
# the sampler's command line).
STAMP = ('script -qfc "$1" /dev/null | while IFS= read -r line; do '
         'printf "%s %s\\n" "$(date +%s.%6N)" "$line"; done')
# A companion that never speaks (a sampler that fails at once) does not hold the job longer.
START_S = 20.0
TEGRASTATS = "/usr/bin/tegrastats"
POLL_S = 0.2


def sampler_mounts(sampling: Sampling) -> tuple[Mount, ...]:
    """The sampler's files, read-only at the same paths: the board's tegrastats (L4T puts it
    in /usr/bin), and every absolute path of the command (a stand-in's script and its
    replay, kept on the shared store); other bare names come from the image."""
    program, *args = sampling.command
    paths = [TEGRASTATS] if program == "tegrastats" else []
    paths += [part for part in (program, *args) if part.startswith("/")]
    return tuple(Mount(path, path, read_only=True) for path in dict.fromkeys(paths))


class CompanionSampler(PowerSampler):
    """The sampler as a service on ``node``, for the length of a ``with`` block."""

    def __init__(self, engine: SwarmEngine, node: NodeInfo, image: str, sampling: Sampling,
                 log_path: Path, labels: dict[str, str], user: str | None,
                 network: str | None) -> None:
        super().__init__(sampling, log_path)
        self.engine, self.node, self.image = engine, node, image
        self.labels, self.user, self.network = labels, user, network
        self.service_id: str | None = None

    def __enter__(self) -> CompanionSampler:
        request = ContainerRequest(
            image=self.image, entrypoint=["sh", "-c", STAMP, "sh"],
            command=[shlex.join(self.sampling.command)],
            name=f"edgecompress-power-{uuid.uuid4().hex[:12]}",
            mounts=sampler_mounts(self.sampling), labels=self.labels, user=self.user,
            tmp_bytes=16 * 1024**2, log_bytes=16 * 1024**2)
        self.service_id = self.engine.create_service(
            ServiceRequest(request, self.node.id, self.network))
        give_up = time.monotonic() + START_S + IDLE_SAMPLES * self.sampling.interval_ms / 1000
        while time.monotonic() < give_up and self._text().count("\n") < IDLE_SAMPLES:
            time.sleep(POLL_S)
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        if self.service_id is None:
            return
        try:
            text = self._text().replace("\r", "")  # the terminal's line ends
            if not text:
                text = f"# the companion on {self.node.hostname} wrote nothing\n"
            tmp = unique_temp(self.log_path)
            tmp.write_text(text)
            os.replace(tmp, self.log_path)
        finally:
            with contextlib.suppress(Exception):
                self.engine.remove_service(self.service_id)

    def _text(self) -> str:
        assert self.service_id is not None
        chunks: list[bytes] = []
        with contextlib.suppress(Exception):  # not started yet, or its node is gone
            chunks = list(self.engine.service_logs(self.service_id, stderr=False))
        return b"".join(chunks).decode("utf-8", "replace")
