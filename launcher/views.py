"""The parents' and children's pages."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from schools.models import Pupil


@login_required
@never_cache
@require_safe
def children(request):
    """The children of this account who may log in at home (tiles come with the launcher)."""
    pupils = (
        Pupil.objects.home_login_possible()
        .filter(parent_links__user=request.user)
        .select_related("school")
        .order_by("first_name")
    )
    return render(request, "launcher/children.html", {"pupils": pupils})
