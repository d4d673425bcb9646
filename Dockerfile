# gems images, built from the repository root.
#   docker build --target worker -t gems-worker .   # what an EC2 worker runs (same provisioning as user-data)
#   docker build --target serve  -t gems-serve  .   # the model, in SageMaker's bring-your-own-container contract
#   docker build --target api    -t gems-api    .   # the Flask API behind any WSGI server (Lambda uses Zappa)
# BASE: any image with Python >= 3.11, or a Debian one without it (python3 and venv are then
# installed from Debian, bookworm's being 3.11): where no registry is reachable, a local image
# made with debootstrap.
ARG BASE=python:3.11-slim

FROM ${BASE} AS base
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN if ! python3 -c 'import sys, venv, ensurepip; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then \
      apt-get update -qq && apt-get install -y -qq --no-install-recommends python3 python3-venv ca-certificates \
      && rm -rf /var/lib/apt/lists/*; \
    fi \
    && python3 -m venv /opt/gems/venv \
    && (getent passwd gems >/dev/null || useradd --create-home --uid 10001 --shell /usr/sbin/nologin gems)
ENV PATH=/opt/gems/venv/bin:$PATH
WORKDIR /src
# Dependencies before code in every target: a code change rebuilds only the last layers.
COPY pyproject.toml README.md ./
COPY requirements/ requirements/

# ---- worker: provisioned by userdata/provision.sh, exactly as an EC2 instance is --------------
FROM base AS worker
COPY userdata/ userdata/
# The compiler and headers provisioning installs for mappy (no wheel on PyPI), then the pins.
RUN bash -c 'source <(sed -n "/^gems_log()/p;/^gems_build_tools()/,/^}/p" userdata/provision.sh) && gems_build_tools python3' \
    && rm -rf /var/lib/apt/lists/*
RUN pip install -q -c requirements/lock.txt -r requirements/app-core.txt -r requirements/worker.txt
COPY gems/ gems/
# The cohort lake: the worker writes each finished sample into it.
COPY lake/ lake/
COPY workers/ workers/
RUN GEMS_WORKER_SOURCE=/src GEMS_VENV=/opt/gems/venv bash userdata/provision.sh
ENV GEMS_PYTHON=/opt/gems/venv/bin/python
USER gems
WORKDIR /home/gems
# A worker is a batch job whose liveness is its heartbeat tag; the image is healthy while its
# installation imports.
HEALTHCHECK --interval=60s --timeout=30s CMD ["python", "-c", "import workers.program.worker, pysam, mappy"]
CMD ["python", "-m", "workers"]

# ---- serve: SageMaker runs `docker run IMAGE serve`; /ping and /invocations on 8080 (or SAGEMAKER_BIND_TO_PORT)
FROM base AS serve
RUN pip install -q -c requirements/lock.txt -r requirements/app-core.txt -r requirements/ml.txt
COPY userdata/ userdata/
COPY gems/ gems/
COPY lake/ lake/
COPY ml/ ml/
RUN pip install -q --no-deps . && printf '#!/bin/sh\nexec python -m ml.serve "$@"\n' > /opt/gems/venv/bin/serve \
    && chmod +x /opt/gems/venv/bin/serve
USER gems
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/ping', timeout=4)"]
ENTRYPOINT []
CMD ["serve"]

# ---- api: the web app without catboost or pysam (what Lambda packages) -------------------------
FROM base AS api
RUN pip install -q -c requirements/lock.txt -r requirements/app.txt waitress==3.0.2
COPY userdata/ userdata/
COPY gems/ gems/
# The cohort lake: the API answers its questions.
COPY lake/ lake/
COPY app/ app/
COPY ml/ ml/
RUN pip install -q --no-deps .
USER gems
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=4)"]
CMD ["waitress-serve", "--listen=0.0.0.0:8000", "app.wsgi:app"]
