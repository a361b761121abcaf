"""Inputs: the tidy runs table (:mod:`.columns`), loading files and frames into it
(:mod:`.load`), and each run's per-step LR from a logged ``lr`` column (:mod:`.lr_column`)."""
