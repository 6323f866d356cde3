import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sla_portal.settings")
application = get_wsgi_application()
# What start-up built (settings, apps, models, URL patterns) lives as long as the worker: keep
# it out of the collector's full sweeps, ~1 ms of a list page (bench/desk.py, in process).
gc.freeze()
