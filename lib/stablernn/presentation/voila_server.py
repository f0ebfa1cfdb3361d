"""Two fixes for the Voilà server of the dashboards (``notebooks/dashboards/voila.json`` names this module).

* **Kernels handed out are not culled.** Voilà keeps pooled kernels out of the culler's reach, but once
  it hands one to a reader the kernel's last activity is still the moment it was preheated. If the
  culler runs in the second or two before the reader's browser connects, a kernel that waited in the
  pool longer than ``cull_idle_timeout`` is shut down and the reader's dashboard has no kernel.
  ``HandoutAwareKernelManager`` treats a kernel as active from the moment it leaves the pool.
* **Templates are compiled once.** Voilà makes a new nbconvert exporter, hence a new Jinja environment,
  for every page, so every page (and every kernel preheated for the pool) parsed and compiled the whole
  template chain again: about half of the server's CPU when ten readers arrive at once. Importing this
  module gives every exporter's environment one shared in-memory bytecode cache, keyed by template
  name and checked against the template's source, as Jinja's own file cache is.
* **A malformed template path is a 404, not a 500.** Voilà's ``TemplateStaticFileHandler`` splits
  ``/voila/templates/<template>/static/<file>`` with assertions and tuple unpacking, so a path such
  as ``/voila/templates/x`` or ``.../static/..%2F..`` ended in an uncaught error and a 500.

The Voilà server imports this module when it reads its configuration; nothing else does.
"""

from __future__ import annotations

import functools

import jinja2
import tornado.web
from jupyter_server._tz import utcnow
from jupyter_server.services.kernels.kernelmanager import AsyncMappingKernelManager
from nbconvert.exporters.templateexporter import TemplateExporter
from voila.static_file_handler import TemplateStaticFileHandler


class HandoutAwareKernelManager(AsyncMappingKernelManager):
    """Before each culling pass, mark kernels handed out since the last pass as just active."""

    _pooled_before: frozenset[str] = frozenset()

    def _pooled_now(self) -> frozenset[str]:
        """Ids of the preheated kernels now waiting in Voilà's pools (empty without preheating)."""
        pooled = set()
        for pool in getattr(self, "_pools", {}).values():
            for task in pool:
                if task.done() and not task.cancelled() and task.exception() is None:
                    pooled.add(task.result()["kernel_id"])
        return frozenset(pooled)

    async def cull_kernels(self) -> None:
        pooled = self._pooled_now()
        for kernel_id in self._pooled_before - pooled:  # handed to a reader since the last pass
            kernel = self._kernels.get(kernel_id)
            if kernel is not None:
                kernel.last_activity = utcnow()
        self._pooled_before = pooled
        await super().cull_kernels()


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
