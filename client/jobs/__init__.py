"""Blocking work (HTTP, serial, big files) off the UI thread, reporting back through signals."""

from client.jobs.runner import Job, JobRunner

__all__ = ["Job", "JobRunner"]
