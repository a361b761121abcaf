"""The ``scaling-fit`` command: one module per subcommand; flags map to API arguments, errors
to one line.
"""
