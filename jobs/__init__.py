"""Container-side jobs of edgecompress.

Runs inside the job images: Python 3.6 syntax (the Jetson Nano's JetPack 4.6 image), TF 2.7
and newer, stdlib JSON out. The launcher's pydantic models define what goes in and out.
"""
