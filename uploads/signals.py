"""Revocation hooks: whatever code path removes a member, demotes them to viewer or closes
a project (admin, shell, a future API), their live upload credentials are cut off."""

from django.db import transaction
from django.db.models.signals import post_delete, post_save, pre_save
from django.dispatch import receiver

from accounts.models import Membership
from uploads import lifecycle
from uploads.models import CredentialRevocation, UploadProject


@receiver(post_delete, sender=Membership)
def membership_removed(sender, instance: Membership, **kwargs) -> None:
    lifecycle.revoke_user_credentials(instance.user, "membership removed", organization=instance.organization)


@receiver(post_save, sender=Membership)
def membership_changed(sender, instance: Membership, created: bool, **kwargs) -> None:
    if not created and instance.role != Membership.Role.UPLOADER:
        lifecycle.revoke_user_credentials(
            instance.user, "role changed to viewer", organization=instance.organization
        )


@receiver(pre_save, sender=UploadProject)
def remember_project_status(sender, instance: UploadProject, **kwargs) -> None:
    instance._status_before = (
        UploadProject.objects.filter(pk=instance.pk).values_list("status", flat=True).first()
        if instance.pk
        else None
    )


@receiver(post_save, sender=UploadProject)
def project_status_changed(sender, instance: UploadProject, **kwargs) -> None:
    before = getattr(instance, "_status_before", None)
    if before == instance.status or before is None:
        return
    if instance.status == UploadProject.Status.CLOSED:
        lifecycle.revoke_project_credentials(instance, "project closed")
    elif instance.status == UploadProject.Status.OPEN:
        # Reopened: credentials issued before the close may be used again.
        removed, _ = CredentialRevocation.objects.filter(
            kind=CredentialRevocation.Kind.PREFIX, value=instance.key_prefix
        ).delete()
        if removed:
            transaction.on_commit(lifecycle.apply_bucket_policy_safely)
