"""EC2 user-data that provisions a worker and starts it; the Dockerfile runs the same provisioning."""
