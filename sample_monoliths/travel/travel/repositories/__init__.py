"""Data access objects: one module per group of tables, raw SQL only.

Not every area has one: payments and loyalty talk to the database straight
from their service modules (they were written by another team).
"""
