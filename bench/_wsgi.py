"""WSGI entry point for the HTTP benchmarks: the application exactly as `vetting serve` builds
it from the VETTING_* environment variables, plus one route of its own, ``/bench/constant``,
which answers a constant small JSON body without touching the database. That route is the
same-run baseline: the cost of the server, Flask and the request hooks alone.

Served by gunicorn: ``gunicorn --chdir <repository> bench._wsgi:app`` (see ``bench/_serve.py``).
"""

from __future__ import annotations

from flask import jsonify

from vetting.app import create_app

app = create_app()


@app.get("/bench/constant")
def bench_constant():  # noqa: ANN201
    return jsonify(ok=True, source="bench", note="a constant answer of about the size of a small API response")
