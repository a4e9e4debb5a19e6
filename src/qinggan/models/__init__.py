"""Models: the estimator contract, the linear and CNN classifiers, model directories."""
