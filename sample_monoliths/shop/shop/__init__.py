"""The shop: our web shop backend.

Everything the storefront, the warehouse app and the back office talk to lives in this
package. Start with :func:`shop.app.create_app`; ``flask --app shop.app routes`` lists the
HTTP API and ``flask --app shop.app --help`` the maintenance commands.
"""

__version__ = "4.18.2"
