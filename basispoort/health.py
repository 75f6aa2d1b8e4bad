"""Health check for load balancers and the container's HEALTHCHECK."""

from __future__ import annotations

import logging

from django.db import DatabaseError, connection
from django.http import JsonResponse

logger = logging.getLogger(__name__)

HEALTH_PATH = "/healthz"


def database_ok() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone() == (1,)
    except DatabaseError:
        logger.exception("Health check: the database does not answer")
        return False


def healthz_response() -> JsonResponse:
    if database_ok():
        return JsonResponse({"status": "ok", "database": "ok"})
    return JsonResponse({"status": "error", "database": "unavailable"}, status=503)


class HealthCheckMiddleware:
    """Answers /healthz before anything reads the Host header or redirects to HTTPS.

    A container health check or load balancer probes over plain HTTP with its own Host
    header; it must get the database's state, not a 400 or a redirect.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path_info == HEALTH_PATH and request.method in ("GET", "HEAD"):
            response = healthz_response()
            response["Cache-Control"] = "no-store"
            return response
        return self.get_response(request)
