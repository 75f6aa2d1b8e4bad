"""Pupil pictures, shown only to those who may see the pupil."""

from __future__ import annotations

from django.http import FileResponse, Http404, HttpResponse
from django.views.decorators.http import require_safe

from schools.access import get_pupil_for_user_or_404
from schools.avatars import generated_avatar_svg


@require_safe
def pupil_picture(request, code):
    if not request.user.is_authenticated:
        raise Http404
    pupil = get_pupil_for_user_or_404(request.user, code)
    try:
        response = FileResponse(pupil.avatar.open("rb"), content_type="image/jpeg")
    except (ValueError, FileNotFoundError):  # no photo, or its file is gone
        svg = generated_avatar_svg(str(pupil.code), pupil.first_name)
        response = HttpResponse(svg, content_type="image/svg+xml")
    response["Cache-Control"] = "private, max-age=300"
    return response
