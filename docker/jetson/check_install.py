"""Build-time check of a Jetson job image's Python stack; the Dockerfile runs it in the image.

It must not import TensorFlow (on JetPack 4, CUDA is mounted from the host only when a
container runs with the nvidia runtime, never during docker build), so it checks what the
installed metadata can tell:
- every pin of requirements.txt is installed at exactly its version;
- the base image meets the "# provided:" requirements (NVIDIA's TensorFlow first of all);
- every dependency a pin declares is installed at a version it accepts, with markers evaluated
  by this very interpreter, unless the profile left it out ("# left-out:") or marked that one
  bound as nominal ("# loose-bound: package dependency").
pip installed the pins with --no-deps, so nothing else would notice a gap before a job runs.

Python 3.6 syntax, standard library and pkg_resources only: it runs on the base image's Python.
Usage: python3 check_install.py requirements.txt
"""
import re
import sys

import pkg_resources


def canonical(name):
    return re.sub(r"[-_.]+", "-", name).lower()


def pin_requirement(line):
    """'name==1.0' as is; 'name @ https://.../name-1.0+nv-cp38-...whl' as 'name==1.0+nv'."""
    if " @ " not in line:
        return line
    name, url = (part.strip() for part in line.split(" @ ", 1))
    version = url.rsplit("/", 1)[-1].split("-")[1]
    return f"{name}=={version}"


def read_plan(text):
    plan = {"pins": [], "provided": [], "left_out": set(), "loose": set()}
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("# provided:"):
            plan["provided"].append(line.split(":", 1)[1].strip())
        elif line.startswith("# left-out:"):
            plan["left_out"].add(canonical(line.split(":", 1)[1].strip()))
        elif line.startswith("# loose-bound:"):
            package, dependency = line.split(":", 1)[1].split()
            plan["loose"].add((canonical(package), canonical(dependency)))
        elif line and not line.startswith(("#", "-")):
            plan["pins"].append(pin_requirement(line))
    return plan


def declared(dist, extras):
    try:
        return dist.requires(extras)
    except pkg_resources.UnknownExtra:
        return dist.requires()


def problems(plan, distributions):
    installed = {canonical(dist.project_name): dist for dist in distributions}
    found = []
    for role, texts in (("pinned", plan["pins"]), ("from the base image", plan["provided"])):
        for text in texts:
            wanted = pkg_resources.Requirement.parse(text)
            dist = installed.get(canonical(wanted.project_name))
            if dist is None:
                found.append(f"{text} ({role}) is not installed")
            elif dist.version not in wanted:
                found.append(f"{text} ({role}) is installed as {dist.version}")
    todo = [(pkg_resources.Requirement.parse(text).project_name, ()) for text in plan["pins"]]
    seen = set()
    while todo:
        name, extras = todo.pop()
        dist = installed.get(canonical(name))
        if dist is None or (canonical(name), extras) in seen:
            continue
        seen.add((canonical(name), extras))
        for need in declared(dist, extras):
            key = canonical(need.project_name)
            have = installed.get(key)
            if key in plan["left_out"]:
                continue
            if have is None:
                found.append(f"{dist} needs {need}, which is not installed")
            elif (canonical(name), key) not in plan["loose"] and have.version not in need:
                found.append(f"{dist} needs {need}, found {have.version}")
            elif need.extras:
                todo.append((need.project_name, tuple(sorted(need.extras))))
    return found


def main(argv):
    with open(argv[1]) as handle:
        plan = read_plan(handle.read())
    found = problems(plan, pkg_resources.WorkingSet())
    for line in found:
        print("check_install: " + line, file=sys.stderr)
    if found:
        print(f"check_install: {len(found)} problem(s): fix the profile's pins in "
              "launcher/device/profiles.py", file=sys.stderr)
        return 1
    print(f"check_install: {len(plan['pins'])} pins and {len(plan['provided'])} base-image "
          "requirements ok")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
