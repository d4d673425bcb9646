#!/bin/bash
# gems worker user-data: rendered per instance by userdata/render.py, runs once at first boot.
# Everything the worker needs to find its job is below; secrets are limited to this job's token.
{{ENV}}
exec > >(tee -a "${GEMS_LOG:-/var/log/gems-worker.log}") 2>&1
{{PROVISION}}
echo "[gems] starting worker ${GEMS_INSTANCE_INDEX} of job ${GEMS_SESSION_KEY}"
"$GEMS_PYTHON" -m workers
code=$?
echo "[gems] worker exited with code $code"
# On EC2 the instance ends here (InstanceInitiatedShutdownBehavior=terminate); the embedded
# runner does the same when this script exits.
[[ -n "${GEMS_EMBEDDED:-}" ]] || shutdown -h now
exit $code
