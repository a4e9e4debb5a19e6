"""Training and evaluation: corpus readers, metrics, the fixed dev split, train and evaluate."""
