"""Error responses that follow from how an operation is declared, added to the OpenAPI document
in one place rather than on each view: what authentication, path parameters and a JSON body
can answer."""

from __future__ import annotations

from typing import Any

from apispec import APISpec, BasePlugin


class ErrorResponsesPlugin(BasePlugin):
    """Documents, unless the view documents them itself:

    - on an operation declared with ``security=BEARER``, what ``require_roles`` answers: 401
      without a valid token, 403 for a role or an account that may not do this, 429 once an
      address has sent too many invalid tokens;
    - on a path with parameters, 404 when they name nothing that exists;
    - on an operation with a JSON body, 400 when the body is not JSON at all.
    """

    AUTH = (("401", "UNAUTHORIZED"), ("403", "FORBIDDEN"), ("429", "TOO_MANY_REQUESTS"))

    def init_spec(self, spec: APISpec) -> None:
        super().init_spec(spec)
        self.spec = spec

    def operation_helper(self, path: str | None = None, operations: dict | None = None, **kwargs: Any) -> None:
        for operation in (operations or {}).values():
            if not isinstance(operation, dict):
                continue
            wanted = list(self.AUTH) if operation.get("security") else []
            if "{" in (path or ""):
                wanted.append(("404", "NOT_FOUND"))
            if "requestBody" in operation:
                wanted.append(("400", "BAD_REQUEST"))
            responses = operation.setdefault("responses", {})
            for status, name in wanted:
                responses.setdefault(status, self.spec.components.get_ref("response", name))
