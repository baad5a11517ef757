"""Every API operation carries an example request and response that fit its schema."""

from __future__ import annotations

import pytest

TYPES = {"integer": int, "number": (int, float), "string": str, "boolean": bool, "array": list, "object": dict}
METHODS = ("get", "post", "put", "patch", "delete")


@pytest.fixture(scope="module")
def spec(tmp_path_factory):
    from vetting.app import create_app

    app = create_app({"VETTING_INSTANCE_PATH": str(tmp_path_factory.mktemp("instance")), "VETTING_SECRET_KEY": "x"})
    return app, app.test_client().get("/api/v1/openapi.json").get_json()


def _problems(value, schema, components, where):  # noqa: ANN001, ANN202
    """What does not fit an OpenAPI 3.0 schema (the subset marshmallow produces)."""
    if "$ref" in schema:
        schema = components[schema["$ref"].rsplit("/", 1)[1]]
    if value is None:
        return [] if schema.get("nullable") or "type" not in schema else [f"{where}: null where {schema['type']} is expected"]
    kind = schema.get("type")
    if kind is None:
        return []
    if not isinstance(value, TYPES[kind]) or (kind in ("integer", "number") and isinstance(value, bool)):
        return [f"{where}: {value!r} is not {kind}"]
    if "enum" in schema and value not in schema["enum"]:
        return [f"{where}: {value!r} is not one of {schema['enum']}"]
    out = []
    if kind == "array":
        for i, item in enumerate(value):
            out += _problems(item, schema.get("items", {}), components, f"{where}[{i}]")
    if kind == "object" and "properties" in schema:
        props = schema["properties"]
        out += [f"{where}: unknown field {k!r}" for k in value if k not in props]
        out += [f"{where}: missing required {k!r}" for k in schema.get("required", []) if k not in value]
        for k, v in value.items():
            if k in props:
                out += _problems(v, props[k], components, f"{where}.{k}")
    return out


def _operations(spec_doc):  # noqa: ANN001, ANN202
    for path, ops in spec_doc["paths"].items():
        for method, op in ops.items():
            if method in METHODS:
                yield method, path, op


def test_every_operation_has_examples_that_fit_its_schemas(spec):
    _app, doc = spec
    components = doc["components"]["schemas"]
    problems = []
    count = 0
    for method, path, op in _operations(doc):
        count += 1
        body = op.get("requestBody", {}).get("content", {}).get("application/json")
        if body is not None:
            if "example" not in body:
                problems.append(f"{method.upper()} {path}: no request example")
            else:
                problems += _problems(body["example"], body["schema"], components, f"{method.upper()} {path} request")
        success = [r for code, r in op["responses"].items() if code.startswith("2")]
        assert success, f"{method.upper()} {path} documents no success response"
        content = success[0].get("content", {}).get("application/json")
        if content is not None:
            if "example" not in content:
                problems.append(f"{method.upper()} {path}: no response example")
            else:
                problems += _problems(content["example"], content["schema"], components, f"{method.upper()} {path} response")
    assert count >= 30
    assert not problems, "\n".join(problems)


def test_request_examples_load_through_the_schemas_the_views_parse_with(spec):
    from vetting.api.examples import EXAMPLES

    app, doc = spec
    checked = 0
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/"):
            continue
        view = app.view_functions[rule.endpoint]
        view_class = getattr(view, "view_class", None)
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            handler = getattr(view_class, method.lower(), None) if view_class else view
            apidoc = getattr(handler, "_apidoc", {})
            for parameter in apidoc.get("arguments", {}).get("parameters", []):
                if parameter.get("in") != "json":
                    continue
                path = rule.rule
                for converter in ("int:", "string:", "path:"):
                    path = path.replace(f"<{converter}", "{")
                path = path.replace("<", "{").replace(">", "}")
                example = EXAMPLES[(method.lower(), path)]["request"]
                schema = parameter["schema"]
                schema = schema() if isinstance(schema, type) else schema
                schema.load(example)  # raises on anything the view itself would refuse
                checked += 1
    assert checked >= 15
