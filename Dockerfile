# Thuisportaal: one image for the web tier and the mail worker. Per release:
#   docker run --env-file prod.env thuisportaal python manage.py migrate --noinput
# and, beside the web containers, exactly one worker that sends the outbox:
#   docker run --env-file prod.env thuisportaal python manage.py mail_worker
FROM python:3.13-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DEBUG=false \
    PORT=8000 \
    STATIC_ROOT=/app/static-root \
    MEDIA_ROOT=/data/media

RUN groupadd --system app && useradd --system --gid app --home-dir /app app

WORKDIR /app
COPY pyproject.toml README.md ./
RUN pip install .

COPY . .
# collectstatic needs settings to load; the throwaway keys never reach a running container.
RUN SECRET_KEY=collectstatic-only-$(python -c "import secrets; print(secrets.token_hex(32))") \
    OIDC_SIGNING_KEY="$(python -m sso.keygen)" \
    ALLOWED_HOSTS=localhost \
    python manage.py collectstatic --noinput \
 && mkdir -p /data/media && chown -R app:app /data

USER app
EXPOSE 8000
VOLUME ["/data"]

HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD python -c "import os, urllib.request; urllib.request.urlopen(f'http://127.0.0.1:{os.environ.get(\"PORT\", \"8000\")}/healthz', timeout=4)"

CMD ["gunicorn", "basispoort.wsgi"]
