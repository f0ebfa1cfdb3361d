"""Explorers: the book's interactive figures.

Each explorer is a pure ``compute(**params) -> data``, a figure builder ``figure(data) -> go.Figure``
(in :mod:`stablernn.figures`) and a list of controls. :class:`~stablernn.explorers.base.Explorer`
gives every explorer its two faces: ``static_figure()`` (plotly frames + sliders, interactive on
the built site with no kernel) and ``widget()`` (ipywidgets controls driving a live figure).
"""
