"""Export a results store to an experiment tracker (MLflow): ``edgecompress export mlflow``."""
