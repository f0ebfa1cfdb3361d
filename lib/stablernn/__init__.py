"""stablernn: the helper library of *Do Recurrent Models Need to Be Recurrent?*

The book's chapters, dashboards and experiments call into this package; all the logic lives
here. Modules are layered (see the book's API reference):

``linalg`` → ``dynamics`` / ``stability`` → ``models`` → ``train`` → ``experiments``;
``figures`` (numbers → plotly) and ``explorers`` (interactive figures) sit on top.

Importing the package does no work: submodules are imported on demand.
"""

__version__ = "0.1.0"
