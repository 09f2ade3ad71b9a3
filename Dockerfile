# Wegweiser as a slim, non-root image running `wegweiser run`.
#
#   docker build -t wegweiser .            (or: buildah bud --format docker -t wegweiser .)
#   docker run -e WEB_BASE_URL=https://wegweiser.example.org -e DATABASE_URL=... wegweiser
#
# The image listens on all interfaces (WEB_HOST=0.0.0.0), so WEB_BASE_URL is required at run
# time: without it every command stops with one line naming WEB_BASE_URL (the invite links
# would otherwise point at http://0.0.0.0:8080). Other settings: README.md.
# BASE_IMAGE: any Debian-like image with python3 (>= 3.11), its venv module and useradd;
# .ci/image passes one built from Debian's packages where Docker Hub cannot be reached.
ARG BASE_IMAGE=python:3.11-slim

# Build stage: a non-editable install of the wheel (compiled catalogs, templates, static
# files and migrations inside, see setup.py) into a venv, with the pinned dependencies.
FROM ${BASE_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY . .
RUN python3 -m venv /opt/wegweiser \
    && /opt/wegweiser/bin/pip install -q -c requirements.lock . \
    && /opt/wegweiser/bin/wegweiser --version

FROM ${BASE_IMAGE}
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PATH=/opt/wegweiser/bin:$PATH \
    WEB_HOST=0.0.0.0 WEB_PORT=8080 DATABASE_URL=sqlite+aiosqlite:////data/wegweiser.db
# Code and catalogs belong to root and are read-only for the app user; it may write /data
# only (the SQLite file, when DATABASE_URL is not PostgreSQL).
COPY --from=build /opt/wegweiser /opt/wegweiser
RUN useradd --uid 10001 --home-dir /data --no-create-home --shell /usr/sbin/nologin wegweiser \
    && mkdir /data && chown wegweiser /data \
    && chmod -R go-w /opt/wegweiser
USER wegweiser
WORKDIR /data
VOLUME /data
EXPOSE 8080
STOPSIGNAL SIGTERM
# Ready, not only alive: the database answers and its schema is current (GET /readyz), on
# the configured WEB_PORT. The start period covers migrations and Telegram's getMe.
# (Kept by Docker and by buildah with --format docker; the OCI format has no healthcheck.)
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD python3 -c "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/readyz' % os.environ.get('WEB_PORT', '8080'), timeout=4)"
CMD ["wegweiser", "run"]
