"""Helpers for the chapters: the small, seeded experiments that the notebooks run while the book is built."""
