"""What a Swarm task's state means to the launcher. Pure: task and node data in, a verdict out.

Swarm's own words are not enough to judge a job by: a task its node could not start (an image
it cannot pull) is 'rejected' with exit code 0, and a task whose node died stays 'running'
until the node comes back, so the node's state is read beside the task's.
"""

from __future__ import annotations

from enum import Enum

from launcher.docker_swarm import NodeInfo, TaskState


class Phase(str, Enum):
    starting = "starting"  # accepted, pulling the image, creating the container
    running = "running"
    ended = "ended"  # the container ran and exited: its exit code stands
    rejected = "rejected"  # never ran: the node refused it (exit code meaningless)
    node_lost = "node_lost"  # its node went down: the task's state can no longer be trusted


# Swarm's task states (swarmkit api/types.proto) before the container runs.
STARTING = frozenset({"new", "allocated", "pending", "assigned", "accepted", "preparing",
                      "ready", "starting"})
ENDED = frozenset({"complete", "failed", "shutdown", "remove"})
NEVER_RAN = frozenset({"rejected"})
# A node that stays down long enough gets its tasks marked orphaned.
ORPHANED = frozenset({"orphaned"})
NODE_UP = "ready"


def phase(task: TaskState | None, node: NodeInfo | None) -> Phase:
    """``task`` None: the manager has not made it yet; ``node`` None: the node is gone from
    the swarm (removed), which is as lost as down."""
    if task is not None and task.state in NEVER_RAN:
        return Phase.rejected
    if task is not None and task.state in ENDED:
        return Phase.ended
    if task is not None and task.state in ORPHANED:
        return Phase.node_lost
    if node is None or node.state != NODE_UP:
        return Phase.node_lost
    if task is not None and task.state == "running":
        return Phase.running
    return Phase.starting


def exit_code(task: TaskState) -> int | None:
    """A complete task exited 0; a failed one with its container's code; a task shut down
    before its container ran has none."""
    if task.state == "complete":
        return 0
    return task.exit_code


def latest(tasks: list[TaskState]) -> TaskState | None:
    """A replicated job with restart 'none' has one task; should Swarm have made another, the
    one still meant to run (or the last) is the job's."""
    if not tasks:
        return None
    wanted = [t for t in tasks if t.desired in ("running", "complete")]
    return (wanted or tasks)[-1]
