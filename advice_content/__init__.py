"""Advice sheets: one per problem category (sector variants where recourse differs)."""
