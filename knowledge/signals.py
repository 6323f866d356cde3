"""A ticket's message that links an article cites it. ``tickets`` must not import the
knowledge base (it sits above), so the knowledge base listens to the message being saved;
recording the citation is one indexed query and rides in the message's own transaction."""

from django.db.models.signals import post_save
from django.dispatch import receiver

from tickets.models import Message


@receiver(post_save, sender=Message, dispatch_uid="knowledge_citations")
def _message_saved(sender, instance: Message, created: bool, raw: bool = False, **kwargs) -> None:
    if raw or "/kb/" not in (instance.body or ""):
        return
    from knowledge.services import citations_record

    citations_record(message=instance)
