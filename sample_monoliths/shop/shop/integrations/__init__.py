"""Adapters for the outside world: payment gateway, parcel carrier, e-mail.

Which implementation is used is configured by dotted path in ``shop.settings`` and loaded
with ``shop.utils.loading.instantiate``.
"""
