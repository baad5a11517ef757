"""Registrar pages for listings (the queue, a listing with its decision trace, and the due
process actions) and the public objection form. Each view parses the form, calls one service
and renders."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext, lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, EmailField, RadioField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length

from vetting.errors import DomainError, ValidationError
from vetting.models import Role
from vetting.pages.auth import current_user, signed_in
from vetting.pages.forms import ActionForm
from vetting.services import listings, notices
from vetting.web import request_session

bp = Blueprint("registry", __name__, template_folder="templates")


class ReasonForm(FlaskForm):
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(message=_l("give the reason")), Length(max=4000)])


class DecideForm(FlaskForm):
    verdict = RadioField(_l("Decision"), choices=[SelectChoice("yes", _l("Uphold / grant")), SelectChoice("no", _l("Reject / refuse"))],
                         validators=[DataRequired(message=_l("choose a decision"))])
    reason = TextAreaField(_l("Reasons"), validators=[DataRequired(message=_l("give the reasons")), Length(max=4000)])


class ServiceForm(FlaskForm):
    method = SelectField(_l("How the notice reached the enterprise"), choices=[
        SelectChoice("courier", _l("Courier")), SelectChoice("post", _l("Registered post")),
        SelectChoice("in_person", _l("In person")), SelectChoice("other", _l("Other"))])
    served_on = DateField(_l("Day it reached the enterprise"), validators=[DataRequired(message=_l("enter the day (YYYY-MM-DD)"))])
    note = TextAreaField(_l("Proof (tracking number, signed receipt, who received it)"),
                         validators=[DataRequired(message=_l("give the proof of service")), Length(max=4000)])
    contact_email = EmailField(_l("An address the enterprise gave for replies (optional)"), validators=[Length(max=254)])


class ObjectionForm(FlaskForm):
    reference = StringField(_l("Listing reference (from the notice)"), validators=[DataRequired(message=_l("enter the reference")), Length(max=32)])
    contact_email = EmailField(_l("Contact email the notice was sent to"), validators=[DataRequired(message=_l("enter the email")), Length(max=254)])
    contact_name = StringField(_l("Your name (optional)"), validators=[Length(max=200)])
    grounds = TextAreaField(_l("Why the listing is wrong"), validators=[DataRequired(message=_l("give your grounds")), Length(max=20000)])
    evidence = StringField(_l("Evidence (a document, link or record; optional)"), validators=[Length(max=1000)])


@bp.get("/registry")
@signed_in(Role.REGISTRAR)
def queue():  # noqa: ANN201
    session = request_session()
    return render_template("registry/queue.html", queue=listings.queue(session, current_user()),
                           undelivered=notices.undelivered(session))


@bp.get("/registry/listings/<int:listing_id>")
@signed_in(Role.REGISTRAR)
def listing(listing_id: int):  # noqa: ANN201
    return _listing_page(listing_id)


def _listing_page(listing_id: int, errors: list[str] | None = None, status: int = 200):  # noqa: ANN202
    seen = listings.view(request_session(), current_user(), listing_id)
    return render_template("registry/listing.html", v=seen, action=ActionForm(), reason_form=ReasonForm(), decide=DecideForm(),
                           service=ServiceForm(), errors=errors or []), status


@bp.post("/registry/listings/<int:listing_id>/service")
@signed_in(Role.REGISTRAR)
def record_service(listing_id: int):  # noqa: ANN201
    form = ServiceForm()
    if not form.validate_on_submit():
        return _listing_page(listing_id, [m for msgs in form.errors.values() for m in msgs] or [gettext("the form expired; send it again")], 400)
    try:
        listings.record_service(request_session(), current_user(), listing_id, method=form.method.data, served_on=form.served_on.data,
                                note=form.note.data, contact_email=(form.contact_email.data or "").strip() or None)
    except ValidationError as exc:
        request_session().rollback()
        return _listing_page(listing_id, [f"{field}: {'; '.join(msgs)}" for field, msgs in exc.errors.items()], exc.status)
    except DomainError as exc:
        request_session().rollback()
        return _listing_page(listing_id, [exc.message], exc.status)
    flash(gettext("Service recorded: the objection window runs from that day."), "ok")
    return redirect(url_for("registry.listing", listing_id=listing_id))


@bp.post("/registry/listings/<int:listing_id>/<any(confirm, revoke):step>")
@signed_in(Role.REGISTRAR)
def listing_action(listing_id: int, step: str):  # noqa: ANN201
    form = ActionForm() if step == "confirm" else ReasonForm()
    if not form.validate_on_submit():
        return _listing_page(listing_id, [m for msgs in form.errors.values() for m in msgs] or [gettext("the form expired; send it again")], 400)
    try:
        if step == "confirm":
            listings.confirm(request_session(), current_user(), listing_id)
        else:
            listings.revoke(request_session(), current_user(), listing_id, form.reason.data)
    except DomainError as exc:
        request_session().rollback()
        return _listing_page(listing_id, [exc.message], exc.status)
    if step == "confirm":
        flash(gettext("Listing confirmed."), "ok")
    else:
        flash(gettext("Listing revoked."), "ok")
    return redirect(url_for("registry.listing", listing_id=listing_id))


@bp.post("/registry/<any(objections, repairs):kind>/<int:item_id>/decide")
@signed_in(Role.REGISTRAR)
def decide(kind: str, item_id: int):  # noqa: ANN201
    form = DecideForm()
    listing_id = request.form.get("listing_id", type=int)
    if not listing_id:
        return render_template("error.html", status=400, message=gettext("The form did not say which listing it is about.")), 400
    if not form.validate_on_submit():
        return _listing_page(listing_id, [m for msgs in form.errors.values() for m in msgs] or [gettext("the form expired; send it again")], 400)
    try:
        if kind == "objections":
            listings.decide_objection(request_session(), current_user(), item_id, upheld=form.verdict.data == "yes",
                                      reason=form.reason.data)
        else:
            listings.decide_repair(request_session(), current_user(), item_id, granted=form.verdict.data == "yes",
                                   reason=form.reason.data)
    except DomainError as exc:
        request_session().rollback()
        return _listing_page(listing_id, [exc.message], exc.status)
    flash(gettext("Decision recorded."), "ok")
    return redirect(url_for("registry.listing", listing_id=listing_id))


@bp.route("/objections/new", methods=["GET", "POST"])
def objection_form():  # noqa: ANN201
    form = ObjectionForm()
    if request.method == "GET":
        form.reference.data = request.args.get("reference", "")
        return render_template("objection_form.html", form=form, errors={})
    if not form.validate_on_submit():
        return render_template("objection_form.html", form=form, errors={}), 400
    evidence = [{"kind": "document", "reference": form.evidence.data.strip()}] if (form.evidence.data or "").strip() else []
    try:
        filed = listings.file_objection(request_session(), reference=form.reference.data, contact_email=form.contact_email.data,
                                        grounds=form.grounds.data, evidence=evidence, contact_name=form.contact_name.data or None)
    except ValidationError as exc:
        request_session().rollback()
        return render_template("objection_form.html", form=form, errors=exc.errors), 422
    except DomainError as exc:
        request_session().rollback()
        return render_template("objection_form.html", form=form, errors={"_form": [exc.message]}), exc.status
    return render_template("objection_filed.html", objection=filed), 201
