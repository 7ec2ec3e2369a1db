"""
WSGI config for the clinic project.

It exposes the WSGI callable as a module-level variable named ``application``.
Production runs it under gunicorn (see deploy/ in the ops repository).
"""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clinic.settings")

application = get_wsgi_application()
