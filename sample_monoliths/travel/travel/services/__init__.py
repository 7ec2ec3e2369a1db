"""Business logic.  Modules here call each other freely; see README for the map."""
