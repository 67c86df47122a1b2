"""Developer tools that are not part of the shipped desk or server (screenshots, ...)."""
