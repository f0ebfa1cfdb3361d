"""A reader's browser as the Voilà server sees it, for the load bench (bench_dashboards_load.py).

In a classroom every reader brings a browser on their own machine; the server only answers requests.
To measure what the server holds without running N browsers on its own 2 cores, this client asks the
server for exactly what a real Chromium session asked for (the page, every script and stylesheet it
loaded, recorded from a real session on the same server) and then does the widget handshake of the
Voilà front end over the kernel's websocket: ``kernel_info``, ``comm_info`` and the
``jupyter.widget.control`` comm's ``request_states``. A session is *ready* when every asset has
arrived and the kernel has sent the state of every widget: what the browser needs to draw the page.

Run as a worker: ``python bench/voila_reader.py URL DASHBOARD N START ASSETS.json`` starts N sessions at the
wall-clock time START and prints one JSON list of their ready times (``null`` for a failed session).
"""

from __future__ import annotations

import asyncio
import json
import re
import sys
import time
import uuid

from jupyter_server.services.kernels.connection.base import deserialize_msg_from_ws_v1, serialize_msg_to_ws_v1
from tornado.httpclient import AsyncHTTPClient, HTTPRequest
from tornado.websocket import websocket_connect

CONNECTIONS_PER_SESSION = 6  # what browsers open per host over HTTP/1.1
TIMEOUT_S = 120
V1 = "v1.kernel.websocket.jupyter.org"


def _message(msg_type: str, content: dict, session: str, metadata: dict | None = None) -> dict:
    return {"header": {"msg_id": uuid.uuid4().hex, "msg_type": msg_type, "username": "reader",
                       "session": session, "date": "", "version": "5.3"},
            "parent_header": {}, "metadata": metadata or {}, "content": content}


def _encode(msg: dict) -> bytes:
    """A shell message in the kernel websocket's v1 protocol, the one JupyterLab's front end speaks."""
    return serialize_msg_to_ws_v1(msg, "shell", pack=lambda part: json.dumps(part).encode())


def _decode(frame: bytes) -> tuple[str, dict, dict]:
    """(channel, header, content) of a v1-protocol frame from the kernel."""
    channel, parts = deserialize_msg_from_ws_v1(frame)
    return channel, json.loads(parts[0]), json.loads(parts[3])


async def _widget_states(ws_url: str) -> None:
    """Do the widget manager's handshake and return once the kernel has sent every widget's state."""
    session = uuid.uuid4().hex
    ws = await websocket_connect(f"{ws_url}?session_id={session}", max_message_size=1 << 30,
                                 subprotocols=[V1])
    try:
        comm_id = uuid.uuid4().hex
        for msg in (_message("kernel_info_request", {}, session),
                    _message("comm_info_request", {"target_name": "jupyter.widget"}, session),
                    _message("comm_open", {"comm_id": comm_id, "target_name": "jupyter.widget.control",
                                           "data": {}}, session, {"version": "1.0.0"}),
                    _message("comm_msg", {"comm_id": comm_id, "data": {"method": "request_states"}}, session)):
            await ws.write_message(_encode(msg), binary=True)
        while True:
            frame = await ws.read_message()
            if frame is None:
                raise ConnectionError("the kernel closed the websocket before sending the widget states")
            _, header, content = _decode(frame)
            if (header.get("msg_type") == "comm_msg" and content.get("comm_id") == comm_id
                    and content.get("data", {}).get("method") == "update_states"):
                return
    finally:
        ws.close()


async def session(url: str, dashboard: str, assets: list[str]) -> float | None:
    """One reader opening ``dashboard``: seconds until ready, or None if it failed or timed out."""
    http = AsyncHTTPClient(force_instance=True, max_clients=CONNECTIONS_PER_SESSION)
    start = time.perf_counter()
    try:
        page = await http.fetch(HTTPRequest(f"{url}/voila/render/{dashboard}", request_timeout=TIMEOUT_S))
        kernel = re.search(r'"kernelId": *"([0-9a-f-]+)"', page.body.decode()).group(1)
        fetches = [http.fetch(HTTPRequest(url + path, request_timeout=TIMEOUT_S)) for path in assets]
        fetches.append(http.fetch(HTTPRequest(f"{url}/api/kernels/{kernel}", request_timeout=TIMEOUT_S)))
        ws_url = url.replace("http", "ws", 1) + f"/api/kernels/{kernel}/channels"
        await asyncio.wait_for(asyncio.gather(*fetches, _widget_states(ws_url)), TIMEOUT_S)
        return time.perf_counter() - start
    except Exception as err:  # a failed session is counted, not raised: the bench reports how many failed
        print(f"session failed: {type(err).__name__}: {err}", file=sys.stderr)
        return None
    finally:
        http.close()


async def sessions(url: str, dashboard: str, n: int, assets: list[str]) -> list[float | None]:
    return list(await asyncio.gather(*(session(url, dashboard, assets) for _ in range(n))))


def main() -> None:
    url, dashboard, n, start_at, assets_file = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4]), sys.argv[5]
    assets = json.loads(open(assets_file).read())
    time.sleep(max(0.0, start_at - time.time()))
    print(json.dumps(asyncio.run(sessions(url, dashboard, n, assets))))


if __name__ == "__main__":
    main()
