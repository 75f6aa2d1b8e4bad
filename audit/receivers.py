"""Events that Django or the models announce themselves: logins; pupils and accounts being
deleted; parent links and pupils changing in a way that may leave a parent account without a
child at school."""

from __future__ import annotations

from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.db.models import Subquery
from django.db.models.signals import post_delete, post_save, pre_delete
from django.dispatch import receiver

from accounts.models import ParentLink, User, normalize_email
from audit import orphans
from audit.models import AuditEvent, record
from schools.models import Pupil


@receiver(user_logged_in)
def _logged_in(sender, request, user, **kwargs):
    record(AuditEvent.Kind.LOGIN, user=user)


@receiver(user_login_failed)
def _login_failed(sender, credentials, request=None, **kwargs):
    # The typed address itself is not kept: it may be someone else's, or even a password
    # typed in the wrong box. The account it belongs to, if any, is looked up by the INSERT.
    address = normalize_email(credentials.get("username") or credentials.get(User.USERNAME_FIELD))
    account = (
        Subquery(User.objects.filter(email=address).order_by().values("pk")[:1])
        if address
        else None
    )
    record(AuditEvent.Kind.LOGIN_FAILED, user=account)


@receiver(pre_delete, sender=Pupil)
def _pupil_deleted(sender, instance, **kwargs):
    # The child's own events (PIN failures, launches, invitations) go with the child. Events
    # with a staff member as actor stay, their pupil set to NULL by the foreign key. (Not an
    # on_delete that deletes: admin would then refuse to delete a pupil, since nobody may
    # delete from the log there.)
    AuditEvent.objects.filter(pupil=instance.pk, actor__isnull=True).delete()


@receiver(pre_delete, sender=User)
def _account_deleted(sender, instance, **kwargs):
    # Logins and links sent go with the account; events about a pupil or by staff stay.
    AuditEvent.objects.filter(user=instance.pk, pupil__isnull=True, actor__isnull=True).delete()


@receiver(post_save, sender=ParentLink)
def _link_saved(sender, instance, created, **kwargs):
    if created:
        orphans.settle_on_commit([instance.user_id])


@receiver(post_delete, sender=ParentLink)
def _link_deleted(sender, instance, **kwargs):
    # Also for the links of a deleted pupil: the deletion collects them one by one.
    orphans.settle_on_commit([instance.user_id])


@receiver(post_save, sender=Pupil)
def _pupil_saved(sender, instance, created, update_fields=None, **kwargs):
    """A pupil who left (or came back) may be a parent's last (or first) child at school."""
    if created or (update_fields is not None and "left_on" not in update_fields):
        return
    orphans.settle_on_commit(User.objects.filter(parent_links__pupil=instance.pk))
