"""The worker program: what an EC2 instance of a job runs once its user-data has installed
gems (`python -m workers`).

  worker      the program: claim this instance's samples, run each through the pipeline,
              record every state change, hand over when done, stopped or interrupted
  instance    who am I: the instance ID from EC2's metadata service (IMDSv2)
  spot        watching for EC2's two-minute spot interruption notice
  fetch       a job's inputs onto the worker: read pairs and reference files from S3
  indexstore  built indexes shared between workers through the state bucket
  api_call    the worker's calls to the API (stop the fleet, ask for a relaunch, status changed)
"""
