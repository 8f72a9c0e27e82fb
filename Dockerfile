# a6ledger service image. Migrations run as a separate step:
#   docker run --rm -e A6LEDGER_DATABASE_URL=... a6ledger a6ledger migrate
FROM python:3.11-slim AS runtime

LABEL org.opencontainers.image.title="a6ledger" \
      org.opencontainers.image.description="Verifiable Article 6.2 ITMO ledger" \
      org.opencontainers.image.licenses="Apache-2.0"

ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    A6LEDGER_ENVIRONMENT=production \
    A6LEDGER_SIGNER_KEY_PATH=/run/secrets/a6ledger-signer.key

WORKDIR /app
COPY pyproject.toml README.md alembic.ini ./
COPY app ./app
COPY ledger ./ledger
COPY migrations ./migrations
RUN pip install . \
    && useradd --uid 65532 --no-create-home --shell /usr/sbin/nologin nonroot

USER nonroot
EXPOSE 8000
STOPSIGNAL SIGTERM
CMD ["a6ledger", "serve", "--host", "0.0.0.0", "--port", "8000"]
