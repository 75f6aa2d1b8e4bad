"""A view that does nothing, for the load benchmark's reference point (BENCH_VIEWS=true).

It passes through the whole middleware stack (sessions, CSRF, CSP, ...) and answers an empty
page: what the framework costs per request before the portal does anything.
"""

from __future__ import annotations

from django.http import HttpResponse
from django.views.decorators.http import require_safe


@require_safe
def empty(request):
    return HttpResponse(b"", content_type="text/plain")
