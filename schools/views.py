"""Pupil pictures, shown only to those who may see the pupil."""

from __future__ import annotations

from django.http import FileResponse, Http404, HttpResponse
from django.views.decorators.http import require_safe

from launcher import children as child_session
from schools import access
from schools.avatars import generated_avatar_svg
from schools.models import Pupil


def _visible_pupils(request):
    """Staff see their scope, a parent their own children, a child only itself."""
    if request.user.is_authenticated:
        if request.user.is_staff:
            return access.pupils_for(request.user) | Pupil.objects.filter(
                parent_links__user=request.user
            )
        return Pupil.objects.filter(parent_links__user=request.user)
    child = child_session.current(request)
    return Pupil.objects.filter(pk=child.pk) if child else Pupil.objects.none()


@require_safe
def pupil_picture(request, code):
    pupil = _visible_pupils(request).filter(code=code).first()
    if pupil is None:
        raise Http404
    try:
        response = FileResponse(pupil.avatar.open("rb"), content_type="image/jpeg")
    except (ValueError, FileNotFoundError):  # no photo, or its file is gone
        svg = generated_avatar_svg(str(pupil.code), pupil.first_name)
        response = HttpResponse(svg, content_type="image/svg+xml")
    response["Cache-Control"] = "private, max-age=300"
    return response
