# Sanad in a container: one process, data in the /data volume, secrets passed at run time.
#
#   docker build -t sanad .
#   docker run -d --name sanad --restart unless-stopped \
#     --env-file /etc/sanad/sanad.env -v sanad-data:/data sanad
#
# See README.md, "Deployment". The token and the key never go into the image, and the key
# never into the /data volume (a copy of the volume must not carry it): pass ENCRYPTION_KEY
# with --env-file, or mount a key file read-only at /run/secrets/sanad.key
#   -v /etc/sanad/sanad.key:/run/secrets/sanad.key:ro   (or a Compose/Swarm secret)
FROM python:3.11-slim

ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# A fixed, unprivileged user: a host directory mounted on /data must belong to uid 10001.
RUN groupadd --system --gid 10001 sanad \
    && useradd --system --uid 10001 --gid sanad --home-dir /data --no-create-home \
        --shell /usr/sbin/nologin sanad \
    && install -d -o sanad -g sanad -m 0700 /data

# Arabic in the /stats charts: libraqm (text layout) with FriBiDi, and a font with Arabic.
RUN apt-get update \
    && apt-get install -y --no-install-recommends libraqm0 libfribidi0 fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY . .

# Editable install without the dev extras: the code finds locales/ and data/forms/ beside
# its package (bot/i18n.py, bot/forms.py), so it runs from /app, and so does the `sanad`
# console script. Then compile the catalogs exactly as `make compile` does.
RUN pip install -e . \
    && pybabel compile --use-fuzzy -d locales -D messages --statistics \
    && python -m compileall -q bot handlers

USER sanad

# DATA_DIR holds sanad.db only; the key file is read from the secrets mount.
# WEBHOOK_LISTEN only matters when WEBHOOK_URL is set; without WEBHOOK_URL the bot polls
# and listens on nothing. PORT (the webhook server's port) defaults to 8443.
ENV DATA_DIR=/data \
    ENCRYPTION_KEY_FILE=/run/secrets/sanad.key \
    WEBHOOK_LISTEN=0.0.0.0
VOLUME /data
EXPOSE 8443

# Migrations are applied when the bot starts; `docker exec sanad python -m bot check` checks.
CMD ["python", "-m", "bot", "run"]
