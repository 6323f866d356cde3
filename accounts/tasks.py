from celery import shared_task

from accounts import services


@shared_task
def notification_deliver_pending_task() -> int:
    return services.notification_deliver_pending()


@shared_task
def webhook_deliver_due_task() -> int:
    from accounts.webhooks import webhook_deliver_due

    return webhook_deliver_due()


@shared_task
def notification_digests_send_task() -> int:
    return services.notification_digests_send()
