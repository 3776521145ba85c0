"""The supplementary groups a Jetson job container gets for the GPU's device nodes."""

import grp

from launcher.execution.container import gpu_groups


def test_gpu_groups_only_for_the_nvidia_runtime():
    gids = {"video": 44, "render": 109}
    assert gpu_groups(None, gids.get) == ()
    assert gpu_groups("runc", gids.get) == ()
    assert gpu_groups("nvidia", gids.get) == ("44", "109")
    assert gpu_groups("nvidia", {"video": 44}.get) == ("44",)  # L4T R32 has no render group


def test_gpu_groups_come_from_the_hosts_group_database():
    expected = []
    for name in ("video", "render"):
        try:
            expected.append(str(grp.getgrnam(name).gr_gid))
        except KeyError:
            continue
    assert gpu_groups("nvidia") == tuple(expected)
