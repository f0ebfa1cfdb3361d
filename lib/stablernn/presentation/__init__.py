"""The presentation layer: everything that puts the book's numbers in front of a reader.

* :mod:`.explorer`: the explorer protocol (``Control``, ``Action``, ``Explorer``) and its two faces;
* :mod:`.explorers`: every interactive figure of the book, one builder each;
* :mod:`.show`: the face chooser (``show``) and ``show_section`` for the chapters' numbers;
* :mod:`.dashboards`: the Voilà dashboards, one per chapter that has one, and their landing page;
* :mod:`.trainer`: *Train it yourself*, two models trained live side by side (an explorer with a Train action);
* :mod:`.voila_server`: the Voilà server's kernel manager and template cache.

Only this package and the notebooks import it; nothing below knows about ipywidgets or kernels.
"""

from .show import show, show_section

__all__ = ["show", "show_section"]
