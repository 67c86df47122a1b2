"""Glue from the client's views to ``drivers/``: workstation device settings, fingerprint
enrolment steps, card images and card printing. Nothing here touches a widget."""
