"""What runs on a worker: the worker program and the per-sample analysis pipeline.

Workers never import flask or anything from app/.
"""
