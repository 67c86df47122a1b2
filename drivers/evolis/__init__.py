"""Evolis card printers (Tattoo, Pebble, Dualys, Quantum) over their serial escape language.

``codec`` builds command frames and reads replies (pure), ``panel`` holds monochrome K/O bitmaps
in the printer's layout, ``device.EvolisPrinter`` runs status reads and print jobs over a
``drivers.transport`` port, ``simulator.EvolisSimulator`` is the printer behind ``evosim://``,
``test_card`` draws a diagnostic card and ``cli`` adds ``python -m drivers printer …``.
"""
