"""Pages for reviewers, association admins and registrars: sign in and out, the dashboard of
assessments and the decisions they moved, the assessment form built from the active ruleset,
tokens, and (registrars) accounts. Each view parses the form, calls one service and renders."""

from __future__ import annotations

import json

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext

from vetting.errors import DomainError, PermissionDenied, TooManyAttempts, Unauthorized, ValidationError
from vetting.models import Assessment, AssessmentStatus, Role
from vetting.pages.auth import current_user, safe_next, sign_in, sign_in_page, sign_out, signed_in
from vetting.pages.forms import (
    EVIDENCE_CHOICES,
    SCORE_CHOICES,
    AccountForm,
    ActionForm,
    SignInForm,
    TokenForm,
    field_errors,
    form_from_payload,
    payload_from_form,
    rubric_levels,
)
from vetting.pages.labels import STATUSES
from vetting.services import accounts, assessments, lockout
from vetting.services.enterprises import choices as enterprise_choices
from vetting.services.rulesets import active_ruleset
from vetting.web import request_session

bp = Blueprint("work", __name__, template_folder="templates")

REVIEWERS = (Role.REVIEWER, Role.ASSOCIATION_ADMIN)


@bp.route("/signin", methods=["GET", "POST"])
def sign_in_view():  # noqa: ANN201
    form = SignInForm()
    if request.method == "GET":
        if current_user() is not None:
            return redirect(url_for("work.dashboard"))
        form.next.data = request.args.get("next", "")
        return sign_in_page(200, form)
    if not form.validate_on_submit():
        return sign_in_page(400, form)
    try:
        account = accounts.authenticate_password(request_session(), form.email.data, form.password.data,
                                                 lockout.Policy.from_config(current_app.config, lockout.SIGN_IN))
    except Unauthorized as exc:
        return sign_in_page(401, form, exc.message)
    except TooManyAttempts as exc:
        response = sign_in_page(429, form, exc.message)
        response.headers["Retry-After"] = str(exc.retry_after)
        return response
    sign_in(account)
    return redirect(safe_next(form.next.data) or url_for("work.dashboard"))


@bp.post("/signout")
def sign_out_view():  # noqa: ANN201
    form = ActionForm()
    if not form.validate_on_submit():
        return render_template("error.html", status=400, message=gettext("The form expired; sign out again.")), 400
    sign_out()
    return redirect(url_for("pages.home"))


@bp.get("/review")
@signed_in()
def dashboard():  # noqa: ANN201
    rows = assessments.dashboard(request_session(), current_user())
    return render_template("work/dashboard.html", rows=rows, can_file=current_user().role in REVIEWERS)


def _form_page(values: dict, errors: dict, *, assessment: Assessment | None = None, status: int = 200):  # noqa: ANN202
    session = request_session()
    ruleset = active_ruleset(session)
    document = json.loads(ruleset.document)
    pillars = {p["code"]: p["name"] for p in document["pillars"]}
    criteria = [dict(c, levels=rubric_levels(c), pillar_name=pillars.get(c["pillar"], c["pillar"])) for c in document["criteria"]]
    return render_template(
        "work/assessment_form.html", form=ActionForm(), values=values, errors=errors, criteria=criteria,
        knockouts=document["knockouts"], ruleset=ruleset, enterprises=enterprise_choices(session), assessment=assessment,
        score_choices=SCORE_CHOICES, evidence_kinds=EVIDENCE_CHOICES,
    ), status


def _file(assessment: Assessment | None):  # noqa: ANN202
    form = ActionForm()
    document = json.loads(active_ruleset(request_session()).document)
    values = request.form.to_dict()
    if not form.validate_on_submit():
        return _form_page(values, {"_form": [gettext("The form expired or was not sent from this site; send it again.")]},
                          assessment=assessment, status=400)
    payload, order = payload_from_form(request.form, document)
    submit_now = request.form.get("action") == "submit"
    version = request.form.get("version")
    try:
        filed = assessments.file(request_session(), current_user(), payload, submit_now=submit_now,
                                 assessment_id=assessment.id if assessment else None,
                                 if_match=int(version) if version and version.isdigit() else None)
    except ValidationError as exc:
        request_session().rollback()
        return _form_page(values, field_errors(exc.errors, order) or {"_form": [exc.message]}, assessment=assessment, status=422)
    except DomainError as exc:
        request_session().rollback()
        return _form_page(values, {"_form": [exc.message]}, assessment=assessment, status=exc.status)
    if submit_now:
        flash(gettext("Submitted. The enterprise was re-evaluated."), "ok")
    else:
        flash(gettext("Saved as a draft. It counts once you submit it."), "ok")
    return redirect(url_for("work.assessment", assessment_id=filed.assessment.id))


@bp.route("/review/assessments/new", methods=["GET", "POST"])
@signed_in(*REVIEWERS)
def new_assessment():  # noqa: ANN201
    if request.method == "POST":
        return _file(None)
    return _form_page({"enterprise_id": request.args.get("enterprise_id", "")}, {})


@bp.route("/review/assessments/<int:assessment_id>", methods=["GET", "POST"])
@signed_in()
def assessment(assessment_id: int):  # noqa: ANN201
    session = request_session()
    row = assessments.visible(session, current_user(), assessment_id)
    user = current_user()
    editable = (row.status is AssessmentStatus.DRAFT and user.role in REVIEWERS
                and (user.role is Role.ASSOCIATION_ADMIN or row.reviewer_id == user.id))
    if request.method == "POST":
        if user.role not in REVIEWERS or (user.role is Role.REVIEWER and row.reviewer_id != user.id):
            raise PermissionDenied(gettext("only the reviewer who wrote it or an association admin can change an assessment"))
        if not editable:
            message = gettext("Assessment %(id)s is %(status)s, not a draft.", id=assessment_id,
                              status=str(STATUSES.get(row.status.value, row.status.value)))
            return render_template("error.html", status=409, message=message), 409
        return _file(row)
    if editable:
        values = form_from_payload(assessments.stored_payload(row))
        values["summary"] = row.summary or ""
        return _form_page(values, {}, assessment=row)
    moved = next(iter(assessments.dashboard(session, user, assessment_id=row.id)), None)
    document = json.loads(row.ruleset.document)
    return render_template("work/assessment.html", a=row, payload=assessments.stored_payload(row), moved=moved,
                           criteria=document["criteria"])


@bp.route("/account/tokens", methods=["GET", "POST"])
@signed_in()
def tokens():  # noqa: ANN201
    user = current_user()
    form = TokenForm()
    new_token = None
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            _row, new_token = accounts.create_token(request_session(), user, user.id, form.name.data)
            form.name.data = ""
        else:
            status = 400
    rows = accounts.list_tokens(request_session(), user, user.id)
    return render_template("work/tokens.html", form=form, action=ActionForm(), tokens=rows, new_token=new_token), status


@bp.post("/account/tokens/<prefix>/revoke")
@signed_in()
def revoke_token(prefix: str):  # noqa: ANN201
    if not ActionForm().validate_on_submit():
        return render_template("error.html", status=400, message=gettext("The form expired; try again.")), 400
    user = current_user()
    accounts.revoke_token(request_session(), user, user.id, prefix)
    flash(gettext("Token %(prefix)s revoked.", prefix=prefix), "ok")
    return redirect(url_for("work.tokens"))


@bp.route("/registry/accounts", methods=["GET", "POST"])
@signed_in(Role.REGISTRAR)
def accounts_page():  # noqa: ANN201
    session = request_session()
    form = AccountForm()
    errors: dict[str, list[str]] = {}
    status = 200
    if request.method == "POST":
        if not form.validate_on_submit():
            status = 400
        else:
            try:
                created = accounts.create_account(
                    session, current_user(), email=form.email.data, role=form.role.data,
                    association_code=form.association.data or None, display_name=form.display_name.data or None,
                    password=form.password.data or None, with_token=False)
            except ValidationError as exc:
                session.rollback()
                errors, status = exc.errors, 422
            except DomainError as exc:
                session.rollback()
                errors, status = {"_form": [exc.message]}, exc.status
            else:
                flash(gettext("Account %(email)s created.", email=created.account.email), "ok")
                return redirect(url_for("work.accounts_page"))
    return render_template("work/accounts.html", form=form, action=ActionForm(), errors=errors,
                           accounts=accounts.list_accounts(session, current_user()),
                           associations=accounts.list_associations(session, current_user())), status


@bp.post("/registry/accounts/<int:account_id>/<any(disable, enable):change>")
@signed_in(Role.REGISTRAR)
def account_status(account_id: int, change: str):  # noqa: ANN201
    if not ActionForm().validate_on_submit():
        return render_template("error.html", status=400, message=gettext("The form expired; try again.")), 400
    account = accounts.set_account_status(request_session(), current_user(), account_id, disabled=change == "disable",
                                          reason=f"{change}d from the accounts page")
    if change == "enable":
        flash(gettext("Account %(email)s enabled.", email=account.email), "ok")
    else:
        flash(gettext("Account %(email)s disabled.", email=account.email), "ok")
    return redirect(url_for("work.accounts_page"))
