"""Fixes for the Voilà server of the dashboards (``notebooks/dashboards/voila.json`` names this module).

* **Pools fill at a pace the machine can take, the landing page first.** Voilà starts every
  dashboard's preheated kernel at once when the server starts; on two cores eight kernels importing
  torch and plotly together made the first dashboard a lecturer opened wait 20 s. Here pooled kernels
  warm up ``preheat_concurrency`` at a time, the landing page's first and then the dashboards in the
  book's order. Readers come first: no warm-up starts while a page is being rendered for a reader,
  except the kernels readers wait for. A reader who asks for a dashboard whose pooled kernel is
  still waiting for its turn moves it to the front: it starts warming at once and the reader is
  served from it (Voilà would otherwise start a second kernel for the same page beside the ones
  warming; the first dashboard a lecturer opened took 9.7 s after its request). Readers who find a
  pool emptied by a class wait for its refills, and those warm as soon as they ask for their turn.
  Once every pool holds its kernel the server logs ``READY`` (the serve command's "ready" line).
* **Kernels handed out are not culled.** Voilà keeps pooled kernels out of the culler's reach, but once
  it hands one to a reader the kernel's last activity is still the moment it was preheated. If the
  culler runs in the second or two before the reader's browser connects, a kernel that waited in the
  pool longer than ``cull_idle_timeout`` is shut down and the reader's dashboard has no kernel (the
  plot never draws). ``HandoutAwareKernelManager`` marks a kernel active the moment Voilà hands it
  out. (An earlier version marked, at each culling pass, the kernels that had left the pool since the
  last pass; a kernel handed out while a pass was shutting other kernels down slipped through, and
  one reader in 15 of the load bench at N = 5 saw no plot.)
* **Templates are compiled once.** Voilà makes a new nbconvert exporter, hence a new Jinja environment,
  for every page, so every page (and every kernel preheated for the pool) parsed and compiled the whole
  template chain again: about half of the server's CPU when ten readers arrive at once. Importing this
  module gives every exporter's environment one shared in-memory bytecode cache, keyed by template
  name and checked against the template's source, as Jinja's own file cache is.
* **A reader who leaves a page frees its kernel.** On ``beforeunload`` Voilà's front end posts
  ``/voila/api/shutdown/<kernel>`` with the ``_xsrf`` cookie, but Voilà's page handler never sets
  that cookie, so the server refused every such request (403) and each closed tab held its kernel
  (about 300 MB) until the culler came. The page handler now sets the cookie.
* **A malformed template path is a 404, not a 500.** Voilà's ``TemplateStaticFileHandler`` splits
  ``/voila/templates/<template>/static/<file>`` with assertions and tuple unpacking, so a path such
  as ``/voila/templates/x`` or ``.../static/..%2F..`` ended in an uncaught error and a 500.

The Voilà server imports this module when it reads its configuration; nothing else does.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import os
import time
from collections.abc import Callable

import jinja2
import tornado.web
from jupyter_server._tz import utcnow
from jupyter_server.services.kernels.kernelmanager import AsyncMappingKernelManager
from nbconvert.exporters.templateexporter import TemplateExporter
from traitlets import Bool, Int
from voila.handler import VoilaHandler
from voila.static_file_handler import TemplateStaticFileHandler

LANDING = "index.ipynb"
#: the dashboards in the book's chapter order: the order their pools fill in after the landing page
ORDER = ("recurrent_models", "bptt", "feedforward", "truncation", "training", "instability", "in_practice")
READY = "Dashboards ready"
WARM_UP_LIMIT_S = 90  # a warm-up that takes longer than this no longer holds back the next one


def _rank(notebook: str) -> tuple[int, int]:
    name = os.path.basename(notebook).removesuffix(".ipynb")
    if notebook.endswith(LANDING):
        return (0, 0)
    return (1, ORDER.index(name)) if name in ORDER else (2, 0)


class HandoutAwareKernelManager(AsyncMappingKernelManager):
    """Pools filled in order and at a pace, readers first, and kernels marked active when handed out
    (see the module's docstring).

    Voilà builds its pooling kernel manager as a subclass of this class; ``__init_subclass__`` wraps
    that subclass's warm-up (``_initialize``) to wait for its turn, its ``__init__`` to announce when
    the first pools are full, and its hand-out (``get_rendered_notebook``) to mark the kernel active.
    """

    preheat_concurrency = Int(max(1, (os.cpu_count() or 2) - 1), config=True,
                              help="pooled kernels warming up at the same time (one per core but one)")
    readers_first = Bool(True, config=True, help="no warm-up while a page renders for a reader, and a "
                         "dashboard asked for before its turn warmed at once (off: Voilà's own order)")

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        if "_initialize" in cls.__dict__ and "fill_if_needed" in cls.__dict__:  # Voilà's pooling manager
            cls._initialize = _paced(cls.__dict__["_initialize"])
            cls.__init__ = _announcing(cls.__dict__["__init__"])
            cls.get_rendered_notebook = _marking_active(cls.__dict__["get_rendered_notebook"])

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        # (rank, arrival, notebook, turn) of each pooled kernel waiting to warm up
        self._waiting: list[tuple[tuple[int, int], int, str, asyncio.Future]] = []
        self._warming = 0
        self._serving = 0  # pages being rendered for readers: no warm-up starts while one is
        self._wanted: dict[str, int] = {}  # readers waiting for a pooled kernel of each notebook not yet warming

    def _turn(self, notebook: str) -> asyncio.Future:
        """A future that is done when ``notebook``'s pooled kernel may start warming up."""
        turn = asyncio.get_event_loop().create_future()
        if self._wanted.get(notebook):  # a reader already waits for it: it warms now
            self._wanted[notebook] -= 1
            self._warming += 1
            turn.set_result(None)
            return turn
        self._waiting.append((_rank(notebook), len(self._waiting), notebook, turn))
        # on the loop's next pass: the pools queued together at start-up are all waiting by then
        asyncio.get_event_loop().call_soon(self._next_turn)
        return turn

    def _next_turn(self) -> None:
        self._waiting.sort(key=lambda entry: entry[:2])
        while self._waiting and self._warming + self._serving < self.preheat_concurrency:
            *_, notebook, turn = self._waiting.pop(0)
            if not turn.done():
                self._warming += 1
                turn.set_result(None)
                if self._wanted.get(notebook):  # its turn came in order, for the reader waiting
                    self._wanted[notebook] -= 1

    def _promote(self, notebook: str) -> bool:
        """Start ``notebook``'s waiting pooled kernel now, whatever is warming; False if none waits."""
        for i, (*_, name, turn) in enumerate(self._waiting):
            if name == notebook and not turn.done():
                del self._waiting[i]
                self._warming += 1  # counted, so that nothing else starts until it has run
                turn.set_result(None)
                return True
        return False

    def _warmed(self) -> None:
        self._warming -= 1
        self._next_turn()

    def asked_for(self, notebook: str) -> Callable[[], None] | None:
        """A reader asks for ``notebook`` (the page handler calls this before it looks at the pools); the
        callable returned says the page has been served. Until then no other warm-up starts, but the
        kernel the reader will wait for does: Voilà hands out the pool's first kernel, and if that one
        is still waiting for its turn it starts now (or, while it sleeps through Voilà's refill delay,
        as soon as it asks for its turn), beside any other reader's. The notebook's entry in Voilà's
        ``notebook_data`` (written once a warm-up has begun; without it the handler starts a kernel of
        its own) is written ahead, so that the reader is served from the pool."""
        if not self.readers_first:
            return None
        self._serving += 1
        pending = [True]

        def served() -> None:  # once: on_finish, or the time limit for a page that never finished
            if pending:
                pending.clear()
                handle.cancel()
                self._serving -= 1
                self._next_turn()

        handle = asyncio.get_event_loop().call_later(WARM_UP_LIMIT_S, served)  # a page that never finished
        pool, data = getattr(self, "_pools", {}).get(notebook), getattr(self, "notebook_data", None)
        if not pool or data is None or pool[0].done():  # no pool, or its first kernel is ready
            return served
        if not self._promote(notebook):  # in Voilà's refill delay: warmed when it asks for its turn
            self._wanted[notebook] = self._wanted.get(notebook, 0) + 1
        if notebook not in data:
            self.log.info("Warming the kernel of %s first: a reader asked for it", notebook)
            config = self.parent.voila_configuration
            data[notebook] = {"notebook": None, "template": config.template, "theme": config.theme,
                              "kernel_name": None, "kernel_ids": set()}
        return served


def _paced(initialize):
    """Voilà's warm-up of a pooled kernel (start it, run the notebook), after its turn has come; the
    turn passes on when the notebook has run, or after ``WARM_UP_LIMIT_S``. Restarts are not paced."""

    @functools.wraps(initialize)
    async def paced(self, notebook_path: str, kernel_id: str | None = None, **kwargs):
        if kernel_id is not None:
            return await initialize(self, notebook_path, kernel_id, **kwargs)
        await self._turn(notebook_path)
        start = time.perf_counter()
        try:
            content = await initialize(self, notebook_path, kernel_id, **kwargs)
        except BaseException:
            self._warmed()
            raise
        pending = []

        def passed(_task: object = None) -> None:
            if pending:
                pending.pop().cancel()
                self.log.info("Warmed a kernel for %s in %.1f s", notebook_path, time.perf_counter() - start)
                self._warmed()

        pending.append(asyncio.get_event_loop().call_later(WARM_UP_LIMIT_S, passed))
        content["task"].add_done_callback(passed)
        return content

    return paced


def _marking_active(get_rendered_notebook):
    """Voilà's hand-out of a preheated kernel to a reader, then the kernel marked active, before the
    coroutine yields to the loop (and so to the culler)."""

    @functools.wraps(get_rendered_notebook)
    async def handed_out(self, *args, **kwargs):
        result = await get_rendered_notebook(self, *args, **kwargs)
        kernel = self._kernels.get(result[2])  # (render task, rendered cells, kernel id)
        if kernel is not None:
            kernel.last_activity = utcnow()
        return result

    return handed_out


def _announcing(init):
    """Voilà's ``__init__`` (which queues every pool's first kernel), then the ``READY`` log line once
    each of those kernels has run its notebook."""

    @functools.wraps(init)
    def announcing(self, **kwargs) -> None:
        init(self, **kwargs)
        tasks = [task for pool in self._pools.values() for task in pool]
        if not tasks:
            return
        start = time.perf_counter()

        async def announce() -> None:
            started = await asyncio.gather(*tasks, return_exceptions=True)
            renders = [r["task"] for r in started if not isinstance(r, BaseException)]
            ran = await asyncio.gather(*renders, return_exceptions=True)
            failed = len(tasks) - sum(not isinstance(r, BaseException) for r in ran)
            self.log.info("%s: %d kernels preheated in %.1f s%s", READY, len(tasks) - failed,
                          time.perf_counter() - start, f"; {failed} failed" if failed else "")

        asyncio.get_event_loop().create_task(announce())

    return announcing


class _MemoryBytecodeCache(jinja2.BytecodeCache):
    """Compiled templates kept in memory for the life of the server process."""

    def __init__(self) -> None:
        self._store: dict[str, bytes] = {}

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        data = self._store.get(bucket.key)
        if data is not None:
            bucket.bytecode_from_string(data)  # ignored if the template's source has changed

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        self._store[bucket.key] = bucket.bytecode_to_string()


# async and sync environments compile the same template to different code: one cache for each
_CACHES = {True: _MemoryBytecodeCache(), False: _MemoryBytecodeCache()}
_create_environment = TemplateExporter._create_environment


def _create_environment_with_cache(self: TemplateExporter) -> jinja2.Environment:
    environment = _create_environment(self)
    environment.bytecode_cache = _CACHES[environment.is_async]
    return environment


TemplateExporter._create_environment = _create_environment_with_cache


def _not_found_if_malformed(method):
    """Turn the handler's errors on a path it cannot split into ``<template>/static/<file>`` into a 404."""

    @functools.wraps(method)
    def checked(*args, **kwargs):
        try:
            return method(*args, **kwargs)
        except (ValueError, AssertionError):
            raise tornado.web.HTTPError(404) from None

    return checked


TemplateStaticFileHandler.parse_url_path = _not_found_if_malformed(TemplateStaticFileHandler.parse_url_path)
TemplateStaticFileHandler.get_absolute_path = classmethod(
    _not_found_if_malformed(TemplateStaticFileHandler.get_absolute_path.__func__))


def _setting_the_xsrf_cookie(prepare):
    """The page handler's ``prepare``, then the ``_xsrf`` cookie set (tornado sets it on first use) and
    the kernel manager told which notebook the reader asked for."""

    @functools.wraps(prepare)
    async def prepared(self, *args, **kwargs):
        result = prepare(self, *args, **kwargs)
        if inspect.isawaitable(result):
            await result
        self.xsrf_token  # the page's unload beacon sends this cookie back with its shutdown request
        notebook = self.notebook_path or (self.path_args[0] if self.path_args else None)
        asked_for = getattr(self.kernel_manager, "asked_for", None)
        if notebook and asked_for is not None:
            self._served = asked_for(notebook)

    return prepared


def _telling_the_pools(on_finish):
    """The page handler's ``on_finish``, then the kernel manager told that the reader's page is served."""

    @functools.wraps(on_finish)
    def finished(self) -> None:
        on_finish(self)
        served = getattr(self, "_served", None)
        if served is not None:
            served()

    return finished


VoilaHandler.prepare = _setting_the_xsrf_cookie(VoilaHandler.prepare)
VoilaHandler.on_finish = _telling_the_pools(VoilaHandler.on_finish)
