"""
ASGI config for the clinic project.

Only used by the experimental websocket ward board; everything else runs on WSGI.
"""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clinic.settings")

application = get_asgi_application()
