# syntax=docker/dockerfile:1
# One image for every service; the command picks the service, e.g.
#   docker run danvan:0.1.0 python -m services.intake
ARG PYTHON_IMAGE=python:3.11-slim

FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /src

# Dependencies first, against empty packages, so a code change does not reinstall them.
COPY pyproject.toml constraints.txt ./
RUN pip install "pip==25.3" \
    && mkdir -p shared services \
    && touch shared/__init__.py services/__init__.py \
    && pip install -c constraints.txt .

COPY shared ./shared
COPY services ./services
# The check runs from its own folder, so it imports the installed package (not ./services):
# every service's entry point, and the migrations, forms, templates, styles and seed data
# that pyproject's package-data must have carried into the wheel.
COPY deploy/docker/check_package_data.py /opt/danvan-build/check_package_data.py
RUN pip install --no-deps --force-reinstall -c constraints.txt . \
    && python /opt/danvan-build/check_package_data.py

FROM ${PYTHON_IMAGE} AS runtime
ARG DANVAN_UID=10001
# A fixed numeric UID lets Kubernetes verify runAsNonRoot and lets volumes be chowned ahead.
RUN groupadd --system --gid ${DANVAN_UID} danvan \
    && useradd --system --uid ${DANVAN_UID} --gid danvan --home-dir /home/danvan \
       --create-home --shell /usr/sbin/nologin danvan \
    && mkdir -p /data \
    && chown ${DANVAN_UID}:${DANVAN_UID} /data
COPY --from=build /opt/venv /opt/venv
COPY deploy/docker/healthcheck.py /usr/local/bin/danvan-healthcheck
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    DANVAN_ENV=production \
    DANVAN_DATA_DIR=/data \
    DANVAN_HTTP_HOST=0.0.0.0
# The working directory holds no source, so imports resolve to the installed package.
WORKDIR /home/danvan
USER ${DANVAN_UID}:${DANVAN_UID}
EXPOSE 8000 8001 8002 8003 8004
HEALTHCHECK --interval=15s --timeout=5s --start-period=40s --retries=3 \
    CMD ["python", "/usr/local/bin/danvan-healthcheck"]
CMD ["python", "-m", "services.portal"]
