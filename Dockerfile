# a6ledger service image.
#   docker build -t a6ledger .
#   docker run --rm -e A6LEDGER_DATABASE_URL=postgresql+psycopg://... a6ledger a6ledger migrate
#   docker run -p 8000:8000 -e A6LEDGER_DATABASE_URL=... -e A6LEDGER_LOG_ORIGIN=registry.example/log \
#     -v /secure/a6ledger-signer.key:/run/secrets/a6ledger-signer.key:ro \
#     -v a6ledger-state:/var/lib/a6ledger a6ledger
# Migrations run as a separate step; the signer key is provided (`a6ledger keys generate`), never
# created in production. The service runs as uid 65532: the key file on the host must be readable
# by it (`chown 65532 a6ledger-signer.key && chmod 0400 a6ledger-signer.key`; docs/operations.md,
# "Key custody"), otherwise it refuses to start with one line saying so. /var/lib/a6ledger is the
# data directory (A6LEDGER_DATA_DIR): the largest tree this container signed (and the SQLite
# file when no database URL is given); mount it on storage that survives the container and that
# the database administrators cannot rewrite, one volume per replica (compose.yaml; the
# database's signed_checkpoint table is the copy all replicas share).
FROM python:3.11-slim AS runtime

LABEL org.opencontainers.image.title="a6ledger" \
      org.opencontainers.image.description="Verifiable Article 6.2 ITMO ledger" \
      org.opencontainers.image.licenses="Apache-2.0"

ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    A6LEDGER_ENVIRONMENT=production \
    A6LEDGER_DATA_DIR=/var/lib/a6ledger \
    A6LEDGER_SIGNER_KEY_PATH=/run/secrets/a6ledger-signer.key

WORKDIR /app
# The dependencies from the hashed lock file first (a layer that changes only with the lock).
COPY requirements.txt ./
RUN pip install --require-hashes -r requirements.txt
COPY pyproject.toml README.md alembic.ini ./
COPY app ./app
COPY ledger ./ledger
COPY migrations ./migrations
# Installed as a package, without resolving again; alembic.ini and migrations/ stay in /app,
# the working directory.
RUN pip install --no-deps . \
    && rm -rf app ledger \
    && useradd --uid 65532 --no-create-home --shell /usr/sbin/nologin nonroot \
    && mkdir -p /var/lib/a6ledger \
    && chown nonroot /var/lib/a6ledger

USER nonroot
VOLUME ["/var/lib/a6ledger"]
EXPOSE 8000
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=30s --timeout=5s CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz')"]
CMD ["a6ledger", "serve", "--host", "0.0.0.0", "--port", "8000"]
