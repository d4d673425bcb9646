#!/bin/bash
# gems worker user-data: rendered per instance by userdata/render.py, runs once at first boot.
# Everything the worker needs to find its job is below; secrets are limited to this job's token.
{{ENV}}
exec > >(tee -a "${GEMS_LOG:-/var/log/gems-worker.log}") 2>&1
{{PROVISION}}
echo "[gems] starting worker ${GEMS_INSTANCE_INDEX} of job ${GEMS_SESSION_KEY}"
exec "$GEMS_PYTHON" -m workers
