from celery import shared_task

from accounts import services


@shared_task
def notification_deliver_pending_task() -> int:
    return services.notification_deliver_pending()
