"""Results: :class:`FitResult` and the other result objects, their predictions (allocation,
loss curves), intervals and JSON.
"""
