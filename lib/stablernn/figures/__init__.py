"""Figures: pure functions from numbers to ``plotly.graph_objects.Figure``, one theme for the book.

Nothing here knows about ipywidgets or kernels; :mod:`stablernn.presentation` adds interactivity.
"""
