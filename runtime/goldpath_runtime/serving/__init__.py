"""The serving shell every project's service shares: the batched access log and what a
worker does once its model or prompt is loaded. Standard library only: a slim serving image
imports it without MLflow."""
