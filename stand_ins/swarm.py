"""A real multi-node Docker Swarm on one machine: a manager and workers as docker-in-docker
containers (stand_ins/swarm_node.py), on an internal bridge network with fixed
addresses, a real registry (Debian's docker-registry binary) served by the manager, and one
host folder bind-mounted at the same path into every node (the lab's NFS store).

What works on these machines and why each flag is here: ../shared/ENVIRONMENT.md, "A
multi-node Swarm on one machine". Everything made here is removed by ``close``: the node
containers, their network and data folders, the registry processes and the pushed tag.
"""

from __future__ import annotations

import functools
import random
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from stand_ins import swarm_node

# Without --privileged (which fails here: CAP_SYS_RESOURCE is not in the host's bounding set).
NODE_FLAGS = ["--init", "--cap-add", "ALL", "--cap-drop", "SYS_RESOURCE",
              "--security-opt", "seccomp=unconfined", "--security-opt", "apparmor=unconfined",
              "--security-opt", "systempaths=unconfined"]
REGISTRY_PORT = 5000
TEST_LABEL = "io.edgecompress.test"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def docker(*args: str, host: str | None = None, check: bool = True, timeout: float = 120
           ) -> str:
    command = ["docker", *(["-H", host] if host else []), *args]
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    if check and done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)}: {done.stderr.strip()}")
    return done.stdout.strip()


def wait_for(what: str, ready: Callable[[], object], timeout: float = 60,
             every: float = 0.2) -> None:
    deadline = time.monotonic() + timeout
    while not ready():
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what}: not ready after {timeout:g} s")
        time.sleep(every)


def answers(url: str) -> bool:
    try:
        urllib.request.urlopen(url, timeout=1)
        return True
    except OSError:
        return False


@dataclass
class SwarmNode:
    name: str  # the node container's name, also its hostname
    ip: str
    container: str = ""

    def docker(self, *args: str, check: bool = True, timeout: float = 120) -> str:
        return docker("exec", self.name, "docker", *args, check=check, timeout=timeout)


@dataclass
class LabSwarm:
    root: Path
    data: Path  # the nodes' /var/lib/docker, each in a folder of its own
    network: str
    manager: SwarmNode
    workers: list[SwarmNode]
    store: Path
    push_registry: str  # the host pushes here (loopback needs no insecure-registry setting)
    registry: str  # the same storage as the nodes see it
    _registry: subprocess.Popen[bytes] | None = None
    pushed: list[str] = field(default_factory=list)

    @property
    def manager_url(self) -> str:
        return f"tcp://{self.manager.ip}:2375"

    @property
    def nodes(self) -> list[SwarmNode]:
        return [self.manager, *self.workers]

    def node_id(self, node: SwarmNode) -> str:
        return docker("node", "inspect", "-f", "{{.ID}}", node.name, host=self.manager_url)

    def kill(self, node: SwarmNode) -> None:
        """The board loses power: its dockerd and every container on it die at once."""
        docker("kill", node.name)

    def running_nodes(self) -> list[SwarmNode]:
        up = set(docker("ps", "--filter", f"label={TEST_LABEL}={self.network}",
                        "--format", "{{.Names}}").split())
        return [n for n in self.nodes if n.name in up]

    def close(self) -> None:
        docker("rm", "-f", "-v", *(node.name for node in self.nodes), check=False)
        docker("network", "rm", self.network, check=False)
        if self._registry is not None:
            self._registry.terminate()
            self._registry.wait(timeout=10)
        for ref in self.pushed:
            docker("rmi", ref, check=False)  # the tag only: the image keeps its other names
        shutil.rmtree(self.data, ignore_errors=True)
        shutil.rmtree(self.root, ignore_errors=True)


def _registry_config(path: Path, storage: Path, address: str) -> None:
    path.write_text("version: 0.1\nlog:\n  level: warn\n"
                    f"storage:\n  filesystem:\n    rootdirectory: {storage}\n"
                    f"http:\n  addr: {address}\n")


def start(workers: int = 2, profile: str = "x86-tf2.12",
          worker_cpus: list[str] | None = None) -> LabSwarm:
    """A manager (drained: it runs no jobs, like a lab's workstation-side manager) and
    ``workers`` labelled ``edgecompress.profile=profile``; ``worker_cpus``: each worker's
    cpuset (e.g. ["0", "1"]: boards of one CPU each). It is set when the node starts: cgroup
    v1 refuses to shrink a cpuset once the node's engine has made cgroups inside it."""
    binary = shutil.which("docker-registry")
    if binary is None:
        raise RuntimeError("docker-registry is not installed: apt-get install docker-registry "
                           "(.ci/run does)")
    image = swarm_node.ensure()
    tag = uuid.uuid4().hex[:8]
    root = Path(tempfile.mkdtemp(prefix=f"/tmp/ec-swarm-{tag}-"))
    root.chmod(0o755)
    # The nodes' engines in RAM where there is a tmpfs: deleting their tens of thousands of
    # image files from a busy virtual disk took 30 s of the module's teardown; from tmpfs it
    # is instant. (A few hundred MB: the stand-in image once per node.)
    shm = Path("/dev/shm")
    data = Path(tempfile.mkdtemp(prefix=f"ec-swarm-{tag}-", dir=shm if shm.is_dir() else root))
    store = root / "store"
    store.mkdir()
    storage = root / "registry"
    storage.mkdir()
    subnet = f"10.213.{random.randint(1, 254)}"
    network = f"ec-swarm-{tag}"
    manager = SwarmNode(f"ec-swarm-{tag}-manager", f"{subnet}.2")
    lab = LabSwarm(root=root, data=data, network=network, manager=manager,
                   workers=[SwarmNode(f"ec-swarm-{tag}-worker{i + 1}", f"{subnet}.{3 + i}")
                            for i in range(workers)],
                   store=store, push_registry="", registry=f"{manager.ip}:{REGISTRY_PORT}")
    try:
        docker("network", "create", "--internal", "--subnet", f"{subnet}.0/24",
               "--label", f"{TEST_LABEL}=swarm", network)
        node_config = root / "registry.yml"
        _registry_config(node_config, storage, f"0.0.0.0:{REGISTRY_PORT}")
        for node in lab.nodes:
            node_data = data / node.name
            node_data.mkdir()
            is_manager = node is manager
            extra = (["-v", f"{binary}:/usr/local/bin/docker-registry:ro",
                      "-v", f"{node_config}:/etc/edgecompress-registry.yml:ro",
                      "-v", f"{storage}:{storage}"] if is_manager else [])
            daemon = (["-H", "unix:///var/run/docker.sock", "-H", "tcp://0.0.0.0:2375",
                       "--tls=false"] if is_manager else [])
            cpus = (["--cpuset-cpus", worker_cpus[lab.workers.index(node)]]
                    if worker_cpus and not is_manager else [])
            docker("run", "-d", *NODE_FLAGS, *cpus, "--name", node.name, "--hostname", node.name,
                   "--network", network, "--ip", node.ip,
                   "--label", f"{TEST_LABEL}={network}",
                   "-v", f"{node_data}:/var/lib/docker", "-v", f"{store}:{store}", *extra,
                   image, "--insecure-registry", lab.registry, *daemon)
        for node in lab.nodes:
            # node.docker answers "" until the node's dockerd does.
            wait_for(f"dockerd in {node.name}",
                     functools.partial(node.docker, "info", check=False, timeout=10))
        docker("exec", "-d", manager.name, "docker-registry", "serve",
               "/etc/edgecompress-registry.yml")
        port = free_port()
        host_config = root / "registry-host.yml"
        _registry_config(host_config, storage, f"127.0.0.1:{port}")
        with open(root / "registry.log", "wb") as log:
            lab._registry = subprocess.Popen([binary, "serve", str(host_config)],
                                             stdout=log, stderr=log)
        lab.push_registry = f"127.0.0.1:{port}"
        wait_for("the host's registry", lambda: answers(f"http://{lab.push_registry}/v2/"))

        url = lab.manager_url
        docker("swarm", "init", "--advertise-addr", manager.ip, host=url)
        # A dead node shows Down in about 3 s instead of about 13.
        docker("swarm", "update", "--dispatcher-heartbeat", "1s", host=url)
        token = docker("swarm", "join-token", "-q", "worker", host=url)
        for worker in lab.workers:
            worker.docker("swarm", "join", "--token", token, f"{manager.ip}:2377")
            docker("node", "update", "--label-add", f"edgecompress.profile={profile}",
                   worker.name, host=url)
        docker("node", "update", "--availability", "drain", manager.name, host=url)
        wait_for("the workers ready", lambda: docker(
            "node", "ls", "--format", "{{.Status}}", host=url).split().count("Ready")
            == workers + 1)
    except BaseException:
        lab.close()
        raise
    return lab
