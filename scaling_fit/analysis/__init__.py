"""Analyses above single fits: isoFLOP optima, backtests and their holdouts, schedule search."""
