"""Inputs: the tidy runs table (:mod:`.columns`), loading files and frames into it
(:mod:`.load`; TensorBoard event files and MLflow stores by :mod:`.tensorboard_events` and
:mod:`.mlflow_store`), and each run's per-step LR from a logged ``lr`` column
(:mod:`.lr_column`)."""
