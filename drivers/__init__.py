"""Device drivers over pyserial: fingerprint modules and card printers (drivers issue)."""
