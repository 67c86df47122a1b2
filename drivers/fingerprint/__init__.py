"""Fingerprint modules of the ZFM/R30x/AS608 family over a serial port.

Pure protocol: ``codec`` (packets, builders, result parsers), ``deframer`` (byte stream →
packets), ``codes`` (confirmation codes → names and Chinese messages). Errors: ``errors``.
Driver: ``channel`` (deadlines, retries, silences explained), ``device`` (``FingerprintModule``),
``prompts`` (what the person at the sensor is told), ``identity`` (which module this is: the
notepad UUID, or the port identity of a clone without the notepad). Simulator: ``simulator`` +
``sim_commands`` (reached as ``fpsim://NAME``). Technician's CLI: ``cli``.
"""
