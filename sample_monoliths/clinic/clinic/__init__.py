"""Project package for the Lindenhof Clinic practice management system."""
