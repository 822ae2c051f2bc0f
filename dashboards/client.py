"""An HTTP client of the app's own endpoints, as a browser would call them: sign in, open a page,
fire a callback. The load benchmark and the security tests use it against a running server."""

from __future__ import annotations

import re
from typing import Any

import requests


class AppClient:
    def __init__(self, base: str, timeout: float = 30.0):
        self.base = base.rstrip("/")
        self.http = requests.Session()
        self.http.headers["Origin"] = self.base  # as a browser's own pages send it on every POST
        self.timeout = timeout
        self._deps: list[dict] | None = None

    def login(self, username: str, password: str) -> requests.Response:
        return self.http.post(f"{self.base}/login", data={"username": username, "password": password},
                              allow_redirects=False, timeout=self.timeout)  # fmt: skip

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("allow_redirects", False)
        return self.http.get(f"{self.base}{path}", timeout=self.timeout, **kwargs)

    def dependencies(self) -> list[dict]:
        if self._deps is None:
            self._deps = self.get("/_dash-dependencies").json()
        return self._deps

    def callback(self, output: str, inputs: dict[str, Any], state: dict[str, Any] | None = None,
                 changed: str | None = None) -> requests.Response:  # fmt: skip
        """Fire the callback whose output string contains `output` (e.g. "conf-body.children"),
        with values for its inputs and states given as {"id.property": value}."""
        given = set(inputs)
        dep = next(
            d for d in self.dependencies()
            if output in d["output"] and {f"{i['id']}.{i['property']}" for i in d["inputs"]} <= given
        )  # fmt: skip
        state = state or {}

        def values(specs: list[dict], given: dict[str, Any]) -> list[dict]:
            return [{"id": s["id"], "property": s["property"], "value": given.get(f"{s['id']}.{s['property']}")}
                    for s in specs]  # fmt: skip

        outputs = [
            {"id": o.rsplit(".", 1)[0].lstrip("."), "property": o.rsplit(".", 1)[1].split("@")[0]}
            for o in re.split(r"\.\.\.", dep["output"].strip("."))
        ]
        body = {
            "output": dep["output"],
            "outputs": outputs if len(outputs) > 1 else outputs[0],
            "inputs": values(dep["inputs"], inputs),
            "state": values(dep.get("state", []), {**inputs, **state}),
            "changedPropIds": [changed or next(iter(inputs))],
        }
        return self.http.post(
            f"{self.base}/_dash-update-component", json=body, timeout=self.timeout
        )

    def page(self, path: str, search: str = "") -> requests.Response:
        """The page body as the router callback returns it (what a browser renders)."""
        return self.callback("_pages_content.children",
                             {"_pages_location.pathname": path, "_pages_location.search": search})  # fmt: skip


def find_component(node: Any, component_id: str) -> dict | None:
    """The props of the component with this id in a page's layout JSON, or None."""
    if isinstance(node, dict):
        if node.get("props", {}).get("id") == component_id:
            return node["props"]
        children = node.values()
    elif isinstance(node, list):
        children = node
    else:
        return None
    for child in children:
        if (found := find_component(child, component_id)) is not None:
            return found
    return None
