"""Travel booking platform ("the monolith").

Flights, hotels, trips, pricing, payments and loyalty for the TravelAir group,
all in one package on top of one SQLite database.  Entry points are the
``travel`` command line (:mod:`travel.cli`) and the job runner
(:mod:`travel.jobs.runner`).
"""

__version__ = "4.12.0"
