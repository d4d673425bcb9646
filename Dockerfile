# gems images, built from the repository root.
#   docker build --target worker -t gems-worker .   # what an EC2 worker runs (same provisioning as user-data)
#   docker build --target serve  -t gems-serve  .   # the model, in SageMaker's bring-your-own-container contract
#   docker build --target api    -t gems-api    .   # the Flask API behind any WSGI server (Lambda uses Zappa)

FROM python:3.11-slim AS base
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /src
COPY pyproject.toml README.md ./
COPY requirements/ requirements/
COPY gems/ gems/
COPY userdata/ userdata/
# The cohort lake: the worker writes each finished sample into it, the API answers its questions.
COPY lake/ lake/

# ---- worker: provisioned by userdata/provision.sh, exactly as an EC2 instance is --------------
FROM base AS worker
COPY workers/ workers/
RUN GEMS_WORKER_SOURCE=/src GEMS_VENV=/opt/gems/venv bash userdata/provision.sh
ENV PATH=/opt/gems/venv/bin:$PATH GEMS_PYTHON=/opt/gems/venv/bin/python
CMD ["python", "-m", "workers"]

# ---- serve: SageMaker runs `docker run IMAGE serve`; /ping and /invocations on port 8080 -------
FROM base AS serve
RUN pip install --no-cache-dir -r requirements/ml.txt
COPY ml/ ml/
RUN pip install --no-cache-dir --no-deps . && printf '#!/bin/sh\nexec python -m ml.serve --port 8080 "$@"\n' > /usr/local/bin/serve \
    && chmod +x /usr/local/bin/serve
EXPOSE 8080
ENTRYPOINT []
CMD ["serve"]

# ---- api: the web app without catboost or pysam (what Lambda packages) -------------------------
FROM base AS api
RUN pip install --no-cache-dir -r requirements/app.txt waitress==3.0.2
COPY app/ app/
COPY ml/ ml/
RUN pip install --no-cache-dir --no-deps .
EXPOSE 8000
CMD ["waitress-serve", "--listen=0.0.0.0:8000", "app.wsgi:app"]
