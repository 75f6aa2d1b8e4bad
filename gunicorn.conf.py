"""gunicorn settings, read from the environment (gunicorn loads this file by itself)."""

import os

bind = f"{os.environ.get('HOST', '0.0.0.0')}:{os.environ.get('PORT', '8000')}"  # noqa: S104
# Sync workers, one more than the cores: measured with `make bench-load` on 2 cores (see
# docs/performance.md), 3 sync workers did as well as or better than 2, 4, or 2 × 4 threads,
# at 129 MiB per worker (threads let several Argon2 runs share a worker: 285 MiB).
workers = int(os.environ.get("WEB_CONCURRENCY", str((os.cpu_count() or 1) + 1)))
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
# Restart workers now and then so that a slow leak can never take a server down; not so often
# that reloading Django shows under load (2,000 restarted a worker every few seconds).
max_requests = 20000
max_requests_jitter = 2000
accesslog = "-"
# Set-password links carry a secret in the path: the access log shows it masked.
logger_class = "basispoort.lib.gunicorn.MaskingLogger"
errorlog = "-"
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
