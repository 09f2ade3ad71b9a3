# Slim, non-root image running `wegweiser run`. Configure with environment variables
# (DATABASE_URL, TELEGRAM_BOT_TOKEN, ...); see README.md.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    WEB_HOST=0.0.0.0 DATABASE_URL=sqlite+aiosqlite:////data/wegweiser.db

RUN useradd --create-home --uid 10001 wegweiser && mkdir /data && chown wegweiser /data
WORKDIR /app
COPY pyproject.toml requirements.lock README.md ./
COPY bot ./bot
COPY storage ./storage
COPY locales ./locales
COPY alembic.ini babel.cfg ./
# bot/web/static/fonts (the web chat's font subsets) comes with ./bot above.
RUN pip install -c requirements.lock -e . \
    && python -c "from bot.i18n import compile_catalogs; compile_catalogs()" \
    && chown -R wegweiser /app/locales

USER wegweiser
VOLUME /data
EXPOSE 8080
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=30s --timeout=5s CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/healthz')"
CMD ["wegweiser", "run"]
