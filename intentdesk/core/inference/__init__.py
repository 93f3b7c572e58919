"""Using a trained model: the classifier, results and evaluation."""
