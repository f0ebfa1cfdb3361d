"""The dashboards' Voilà server refuses what it must not serve, and keeps serving afterwards."""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
import uuid

import pytest

pytestmark = pytest.mark.browser  # needs the Voilà server fixture

FORBIDDEN = [
    "/voila/files/voila.json",                       # configuration next to the dashboards
    "/voila/files/recurrent_models.ipynb",           # a dashboard's source
    "/voila/files/..%2F..%2Frequirements.txt",       # repository files outside the dashboards
    "/voila/files/../../pyproject.toml",
    "/voila/render/../../README.md",
    "/voila/static/..%2F..%2Fapp.py",
    "/voila/templates/stablernn/static/..%2F..%2F..%2Findex.html.j2",
    "/files/requirements.txt",
    "/api/contents",
    "/api/kernels",
    "/voila/render/does-not-exist.ipynb",
    "/voila/render/%00.ipynb",
]
SECRETS = ("jupyter-book==", "[project]", "VoilaConfiguration", "Traceback", "show_dashboard(")


def fetch(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=60) as r:
            return r.status, r.read().decode(errors="replace")
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode(errors="replace")


@pytest.mark.parametrize("path", FORBIDDEN)
def test_refuses_files_outside_the_allow_list_without_a_traceback(voila_url, path):
    status, body = fetch(voila_url + path)
    assert status >= 400, f"{path} was served ({status})"
    for secret in SECRETS:
        assert secret not in body, f"{path}: the answer contains {secret!r}"


@pytest.mark.parametrize("query", ["?x=%ff%00", "?kernel_name=../../etc", "?voila-template=../../lab",
                                    "?" + "a=1&" * 500])
def test_malformed_parameters_do_not_break_a_dashboard(voila_url, query):
    status, body = fetch(f"{voila_url}/voila/render/truncation.ipynb{query}")
    assert status in (200, 400, 404, 414)
    assert "Traceback" not in body and "show_dashboard(" not in body


@pytest.mark.parametrize("path", ["/voila/templates/stablernn", "/voila/templates/stablernn/x/y",
                                  "/voila/templates/stablernn/static/..%2F..", "/voila/templates/stablernn/static/..",
                                  "/voila/templates/x"])
def test_a_malformed_template_path_is_refused_as_not_found(voila_url, path):
    status, body = fetch(voila_url + path)
    assert 400 <= status < 500, f"{path}: {status}"
    assert "Traceback" not in body


def test_server_keeps_serving_after_refusals(voila_url):
    for path in FORBIDDEN[:4]:
        fetch(voila_url + path)
    status, body = fetch(f"{voila_url}/voila/render/recurrent_models.ipynb")
    assert status == 200 and "kernelId" in body


def test_front_end_cannot_execute_code(voila_url, tmp_path):
    """A client that sends its own execute_request over the kernel websocket gets nothing run."""
    from websockets.exceptions import ConnectionClosed
    from websockets.sync.client import connect

    status, body = fetch(f"{voila_url}/voila/render/recurrent_models.ipynb")
    kernel = re.search(r'"kernelId": *"([0-9a-f-]+)"', body).group(1)
    marker = tmp_path / "executed"
    code = f"open({str(marker)!r}, 'w').write('x')"
    ws_url = voila_url.replace("http", "ws") + f"/api/kernels/{kernel}/channels"

    def attempt(msg_type: str, content: dict) -> list[str]:
        # the sync client: playwright's sync API may already run an event loop in this thread
        seen = []
        with connect(ws_url, max_size=None) as ws:
            msg_id = uuid.uuid4().hex
            ws.send(json.dumps({
                "header": {"msg_id": msg_id, "msg_type": msg_type, "username": "t", "session": "t",
                           "version": "5.3", "date": ""},
                "parent_header": {}, "metadata": {}, "channel": "shell", "buffers": [], "content": content}))
            try:
                while True:
                    reply = json.loads(ws.recv(timeout=5))
                    if reply.get("parent_header", {}).get("msg_id") == msg_id:
                        seen.append(reply["header"]["msg_type"])
            except (TimeoutError, ConnectionClosed):
                return seen

    # the channel itself works (so the test can fail): a harmless request is answered
    assert "kernel_info_reply" in attempt("kernel_info_request", {})
    replies = attempt("execute_request", {
        "code": code, "silent": False, "store_history": False, "user_expressions": {}, "allow_stdin": False,
        "stop_on_error": True})
    assert not marker.exists(), "code sent by the front end was executed"
    assert "execute_reply" not in replies


def test_pooled_kernels_warm_one_at_a_time_landing_page_first_then_the_books_order():
    import asyncio

    from stablernn.presentation.voila_server import HandoutAwareKernelManager

    manager = HandoutAwareKernelManager(preheat_concurrency=1)
    order: list[str] = []

    async def warm(name: str) -> None:
        await manager._turn(name)
        order.append(name)
        await asyncio.sleep(0.01)
        manager._warmed()

    async def main() -> None:
        names = ["instability.ipynb", "training.ipynb", "index.ipynb", "recurrent_models.ipynb", "extra.ipynb"]
        await asyncio.gather(*(warm(n) for n in names))

    import threading

    worker = threading.Thread(target=asyncio.run, args=(main(),))  # this module's other tests hold a loop
    worker.start()
    worker.join(timeout=30)
    assert order == ["index.ipynb", "recurrent_models.ipynb", "training.ipynb", "instability.ipynb", "extra.ipynb"]


def test_a_pooled_kernel_a_reader_asks_for_starts_at_once_and_holds_back_the_rest():
    import asyncio
    import threading

    from stablernn.presentation.voila_server import HandoutAwareKernelManager

    manager = HandoutAwareKernelManager(preheat_concurrency=1)
    events: list[str] = []

    async def warm(name: str, seconds: float) -> None:
        await manager._turn(name)
        events.append(f"start {name}")
        await asyncio.sleep(seconds)
        events.append(f"done {name}")
        manager._warmed()

    async def main() -> None:
        names = {"index.ipynb": 0.2, "recurrent_models.ipynb": 0.05, "training.ipynb": 0.05,
                 "in_practice.ipynb": 0.05}
        tasks = [asyncio.ensure_future(warm(n, s)) for n, s in names.items()]
        await asyncio.sleep(0.05)  # the landing page is warming; a reader asks for the last dashboard
        assert manager._promote("in_practice.ipynb")
        assert not manager._promote("in_practice.ipynb")  # its turn has come: nothing left to promote
        await asyncio.gather(*tasks)

    worker = threading.Thread(target=asyncio.run, args=(main(),))  # this module's other tests hold a loop
    worker.start()
    worker.join(timeout=30)
    assert events == ["start index.ipynb", "start in_practice.ipynb", "done in_practice.ipynb", "done index.ipynb",
                      "start recurrent_models.ipynb", "done recurrent_models.ipynb", "start training.ipynb",
                      "done training.ipynb"]


def test_no_pooled_kernel_warms_while_a_page_renders_for_a_reader():
    import asyncio
    import threading

    from stablernn.presentation.voila_server import HandoutAwareKernelManager

    manager = HandoutAwareKernelManager(preheat_concurrency=1)
    events: list[str] = []

    async def warm(name: str) -> None:
        await manager._turn(name)
        events.append(f"start {name}")
        manager._warmed()

    async def main() -> None:
        served = manager.asked_for("index.ipynb")  # a reader's page is rendering
        task = asyncio.ensure_future(warm("bptt.ipynb"))
        await asyncio.sleep(0.1)
        events.append("page served")
        served()
        served()  # a second call (on_finish after the time limit) changes nothing
        await task
        assert manager._serving == 0

    worker = threading.Thread(target=asyncio.run, args=(main(),))  # this module's other tests hold a loop
    worker.start()
    worker.join(timeout=30)
    assert events == ["page served", "start bptt.ipynb"]


def test_a_reader_waiting_for_a_pooled_kernel_still_in_its_refill_delay_does_not_hold_it_back():
    """Twenty readers and ten pooled kernels: the eleventh waits for a refill that is still sleeping
    through Voilà's refill delay. That refill must warm as soon as it asks for its turn, though a page
    is rendering (readers first would otherwise hold it back until the reader's own page gives up)."""
    import asyncio
    import threading

    from stablernn.presentation.voila_server import HandoutAwareKernelManager

    manager = HandoutAwareKernelManager(preheat_concurrency=1)
    events: list[str] = []

    async def main() -> None:
        refill = asyncio.get_event_loop().create_future()  # the pool's first task, not done
        manager._pools = {"recurrent_models.ipynb": [refill]}
        manager.notebook_data = {"recurrent_models.ipynb": {"template": "stablernn", "theme": "light"}}
        served = manager.asked_for("recurrent_models.ipynb")  # the reader's page now waits on ``refill``
        await asyncio.sleep(0.05)  # the refill delay
        await asyncio.wait_for(manager._turn("recurrent_models.ipynb"), timeout=5)
        events.append("refill warms")
        manager._warmed()
        refill.set_result(None)
        served()
        events.append("page served")
        later = manager._turn("bptt.ipynb")  # nobody waits for this one: it keeps its place
        await asyncio.sleep(0.05)
        assert later.done()

    worker = threading.Thread(target=asyncio.run, args=(main(),))  # this module's other tests hold a loop
    worker.start()
    worker.join(timeout=30)
    assert events == ["refill warms", "page served"]
