"""Blocking work (HTTP, serial, big files) as named jobs, run off the UI thread.

``client.jobs.job`` and ``client.jobs.api_jobs`` are plain Python (models import them);
``client.jobs.runner`` is the Qt runner that executes them.
"""

from client.jobs.job import LOCAL, SERVER, ApiJob, Job, Runs, device

__all__ = ["LOCAL", "SERVER", "ApiJob", "Job", "Runs", "device"]
