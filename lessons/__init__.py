"""Instructor material; `lessons.solutions` holds the exercise solutions as importable modules."""
