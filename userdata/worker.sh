#!/bin/bash
# gems worker user-data: rendered per instance by userdata/render.py, runs once at first boot.
# Everything the worker needs to find its job is below; secrets are limited to this job's token.
{{ENV}}
exec > >(tee -a "${GEMS_LOG:-/var/log/gems-worker.log}") 2>&1

# Nothing runs after it should: the instance powers off on every way out of this script (a
# failed provisioning step, a crashed worker, a normal end), and a dead-man's switch powers it
# off when it outlives the job's maximum run time (a hung worker). On EC2 power-off terminates
# the instance (InstanceInitiatedShutdownBehavior=terminate); in the embedded stack the runner
# ends the instance when this process group ends.
gems_poweroff() {
  if [[ -n "${GEMS_EMBEDDED:-}" ]]; then kill -TERM 0; else shutdown -h now || poweroff -f; fi
}
gems_end() {
  local code=$?
  trap - EXIT
  [[ -n "${GEMS_DEADMAN:-}" ]] && kill "$GEMS_DEADMAN" 2>/dev/null
  echo "[gems] worker exited with code $code"
  [[ -n "${GEMS_EMBEDDED:-}" ]] || shutdown -h now || poweroff -f
  exit "$code"
}
trap gems_end EXIT
(
  trap 'kill "$nap" 2>/dev/null; exit 0' TERM  # the script ended first: disarm, leave no sleeper
  sleep "${GEMS_MAX_RUNTIME:-86400}" & nap=$!
  wait "$nap"
  echo "[gems] maximum run time (${GEMS_MAX_RUNTIME:-86400} s) reached: powering off"
  gems_poweroff
) &
GEMS_DEADMAN=$!

{{PROVISION}}
echo "[gems] starting worker ${GEMS_INSTANCE_INDEX} of job ${GEMS_SESSION_KEY}"
"$GEMS_PYTHON" -m workers
