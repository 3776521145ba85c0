"""Running a campaign's plan: one scheduler (schedule.py) over sites (site.py): this machine
with N slots (local.py), or a Docker Swarm fleet (launcher/fleet/site.py)."""
