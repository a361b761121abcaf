"""Fitting: the objective, the parameter space, multi-start refinement, variable projection,
the bootstrap and :func:`fit`.
"""
