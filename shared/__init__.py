"""What both the client and the server import: schemas, enums, rules. Imports nothing of ours."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("sgss")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+source"
