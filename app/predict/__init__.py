"""POST /predict: validated patient facts in, primary-site probabilities out (through SageMaker or the local server)."""
