"""vetting: an association-run red/black list service for enterprises that invest and build abroad.

Importing this package has no side effects; build the application with
:func:`vetting.app.create_app`.
"""

__version__ = "0.1.0"
