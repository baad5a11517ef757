"""Release files for download: ``/releases`` (the list), ``/releases/<n>/<file>``,
``/releases/latest/<file>`` and the public key ``/releases/signing-key.pem``. Files are served
with their content type, Content-Length, an ETag (their SHA-256 from the manifest) and range
requests; a published release never changes, so a numbered file may be cached for a year."""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, redirect, render_template, send_file, url_for

from vetting.publication import release, signing
from vetting.services import releases as service

bp = Blueprint("releases_pages", __name__)


@bp.get("/releases")
def index():  # noqa: ANN201
    return render_template("releases.html", releases=service.listing(dict(current_app.config)))


@bp.get("/releases/signing-key.pem")
def signing_key():  # noqa: ANN201
    body = signing.public_pem(dict(current_app.config))
    return Response(body, mimetype="application/x-pem-file", headers={"Cache-Control": "public, max-age=3600"})


def _file(number: int, name: str, max_age: int):  # noqa: ANN202
    folder = release.storage(dict(current_app.config))
    if number not in release.numbers(folder):
        abort(404, f"there is no release {number}")
    manifest = release.manifest(folder, number)
    known = {f["name"]: f for f in manifest["files"]}
    if name not in known and name not in ("index.json", "index.json.sig", "SHA256SUMS", "SHA256SUMS.sig"):
        abort(404, f"release {number} has no file {name}")
    path = folder / str(number) / name
    suffix = "." + name.rsplit(".", 1)[-1] if "." in name else ".txt"
    response = send_file(path, mimetype=release.CONTENT_TYPES.get(suffix, "application/octet-stream"), conditional=True,
                         etag=known[name]["sha256"] if name in known else True, max_age=max_age, download_name=name)
    response.headers["Cache-Control"] = f"public, max-age={max_age}" + (", immutable" if max_age > 3600 else "")
    return response


@bp.get("/releases/<int:number>/<name>")
def file(number: int, name: str):  # noqa: ANN201
    return _file(number, name, 365 * 24 * 3600)


@bp.get("/releases/latest/<name>")
def latest(name: str):  # noqa: ANN201
    numbers = release.numbers(release.storage(dict(current_app.config)))
    if not numbers:
        abort(404, "no release has been published yet")
    if name == "":
        return redirect(url_for("releases_pages.index"))
    return _file(numbers[-1], name, 300)
