"""Pure domain of breach-response: events in, decisions out.

Standard library only. Nothing here reads the clock, the environment, files or the
network; the shell (``streams/``) passes every input in, including ``now``.
"""
