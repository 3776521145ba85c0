"""Fleet runs: a campaign spread over the boards of a Docker Swarm, one job per node at a time.

One job is still one container with the same spec, judging and filing as a local run
(launcher/runner.py); only starting it and waiting for it changes (``backend``). The launcher
keeps the campaign's ready queue and fills free nodes of the job's profile (``placement``,
``execute``); it watches node state itself, since Swarm keeps a dead node's task 'running'
(``tasks``). ``preflight`` checks every node before the first job, ``status`` shows them.
"""
