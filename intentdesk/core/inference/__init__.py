"""Using a trained model: the classifier, fast number formats, results and evaluation."""
