"""Sign-in and sign-out pages (session cookie, CSRF-protected form, rate-limited)."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_limiter import RateLimitExceeded
from flask_login import login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, Optional

from ..core.actor import Role
from ..core.filters import ROLE_LABELS
from ..core.pagination import paginate
from ..core.uow import keep_writes_on_error
from ..errors import ValidationFailed, handle_http_error
from ..extensions import db
from . import browser, service, throttle
from .current import current_actor
from .policy import POLICY

bp = Blueprint("auth", __name__, template_folder="templates")


@bp.app_context_processor
def _people():
    """``person_of(user_id)`` for every page: who did something, by name and organisation (auth/people.py)."""
    from .people import person_for_user

    return {"person_of": person_for_user}


class SignInForm(FlaskForm):
    username = StringField(_l("用户名"), validators=[DataRequired(), Length(max=60)])
    password = PasswordField(_l("密码"), validators=[DataRequired(), Length(max=200)])


def _safe_next(target: str | None) -> str:
    """Only same-site relative paths, so sign-in cannot be used as an open redirect."""
    if target and target.startswith("/") and not target.startswith("//") and not urlsplit(target).netloc:
        return target
    return url_for("home")


@bp.route("/login", methods=["GET", "POST"])
@throttle.sign_in_limit  # per account and address, and per address: shared with POST /api/v1/auth/token
def login():
    form = SignInForm()
    if form.validate_on_submit():
        try:
            user = service.authenticate(form.username.data, form.password.data, remote_addr=request.remote_addr)
        except throttle.SignInThrottled as refused:
            keep_writes_on_error()  # the audit row of the refused attempt
            flash(refused.message, "error")
            return render_template("auth/login.html", form=form), 429, {"Retry-After": str(refused.retry_after)}
        if user is not None:
            login_user(user)
            browser.begin(user)
            return redirect(_safe_next(request.args.get("next")))
        keep_writes_on_error()  # the audit row of the failed attempt
        flash(_("用户名或密码错误"), "error")
    status = 422 if request.method == "POST" else 200
    return render_template("auth/login.html", form=form), status


@bp.errorhandler(RateLimitExceeded)
def _sign_in_budget_spent(exc: RateLimitExceeded):
    """A sign-in budget (per account and address, or per address) is spent: the same form again with the
    username kept, a 429 with Retry-After and the Chinese message saying when to retry, not a dead-end page."""
    from ..errors import _rate_limited_message

    if request.endpoint not in ("auth.login", "auth.change_password"):
        return handle_http_error(exc)
    db.session.rollback()
    message = _rate_limited_message(exc)  # also sets exc.retry_after
    headers = {"Retry-After": str(exc.retry_after)}
    flash(message, "error")
    if request.endpoint == "auth.change_password":
        return _password_page(PasswordChangeForm(), 429, headers)
    return render_template("auth/login.html", form=SignInForm()), 429, headers


@bp.post("/logout")
def logout():
    browser.end()  # the server forgets this session: a copy of the cookie no longer signs anyone in
    logout_user()
    return redirect(url_for("auth.login"))


class PasswordChangeForm(FlaskForm):
    current_password = PasswordField(_l("当前密码"), validators=[DataRequired(), Length(max=200)])
    new_password = PasswordField(
        _l("新密码"),
        validators=[
            DataRequired(),
            Length(
                min=service.MIN_PASSWORD_LENGTH, max=200, message=_l("至少 %(n)s 个字符", n=service.MIN_PASSWORD_LENGTH)
            ),
        ],
        description=_l("至少 %(n)s 个字符，不能与用户名或当前密码相同", n=service.MIN_PASSWORD_LENGTH),
    )
    new_password_again = PasswordField(
        _l("再次输入新密码"), validators=[DataRequired(), EqualTo("new_password", message=_l("两次输入的新密码不一致"))]
    )


@bp.route("/account/password", methods=["GET", "POST"])
@throttle.sign_in_limit  # the current password is a password check: the sign-in budgets
def change_password():
    """The signed-in person changes their password; every other browser and every API token of the account
    is signed out, this browser gets a fresh session."""
    form = PasswordChangeForm()
    if form.validate_on_submit():
        try:
            user = service.change_password(
                current_actor(), form.current_password.data, form.new_password.data, remote_addr=request.remote_addr
            )
        except throttle.SignInThrottled as refused:
            keep_writes_on_error()  # the audit row of the refused attempt
            flash(refused.message, "error")
            return _password_page(form, 429, {"Retry-After": str(refused.retry_after)})
        except ValidationFailed as exc:
            keep_writes_on_error()  # only the failed-attempt audit row is pending: keep it
            _show_errors(form, exc.errors)
        else:
            browser.begin(user)  # the change commits with the new session
            flash(_("密码已修改；其他设备上的登录和全部访问令牌已失效"), "success")
            return redirect(url_for("home"))
    return _password_page(form, 422 if request.method == "POST" else 200)


def _password_page(form: PasswordChangeForm, status: int, headers: dict | None = None):
    for name in ("current_password", "new_password", "new_password_again"):
        form[name].data = ""  # never echo a password back
    return render_template("auth/password.html", form=form), status, headers or {}


def _show_errors(form: FlaskForm, errors: dict[str, list[str]] | None) -> dict[str, list[str]]:
    """Put a service's field messages beside the form's fields; the ones without a field are returned."""
    leftover: dict[str, list[str]] = {}
    for name, messages in (errors or {}).items():
        field = form._fields.get(name)
        if field is None:
            leftover[name] = messages
        else:
            field.errors = [*field.errors, *messages]
    return leftover


# --- account administration (administrators) ------------------------------------------------------------


class UserEditForm(FlaskForm):
    """What an administrator may change on an account."""

    display_name = StringField(_l("显示名称"), validators=[Optional(), Length(max=60)])
    role = SelectField(
        _l("角色"), choices=[(r.value, _l(ROLE_LABELS[r.value])) for r in Role], validators=[DataRequired()]
    )
    organization = SelectField(
        _l("所属组织"),
        coerce=lambda v: int(v) if v not in (None, "", "None") else None,
        validate_choice=False,
        validators=[Optional()],
        description=_l("调解员和法律援助工作人员必填"),
    )
    region = StringField(_l("管辖区域"), validators=[Optional(), Length(max=12)])


class UserForm(UserEditForm):
    username = StringField(_l("用户名"), validators=[DataRequired(), Length(max=60)])
    password = PasswordField(
        _l("初始密码"),
        validators=[DataRequired(), Length(max=200)],
        description=_l("至少 %(n)s 个字符", n=service.MIN_PASSWORD_LENGTH),
    )


def _admin():
    """The current actor, if it may manage accounts (``POLICY "manage_accounts"``), else a 403."""
    actor = current_actor()
    POLICY.require(actor, "manage_accounts")
    return actor


@bp.get("/accounts")
def user_list():
    actor = _admin()
    role = request.args.get("role") or None
    role = role if role in {r.value for r in Role} else None
    q = (request.args.get("q") or "").strip() or None
    page = paginate(
        service.list_users(actor, q=q, role=Role(role) if role else None),
        max(request.args.get("page", 1, type=int) or 1, 1),
        50,
    )
    return render_template("auth/user_list.html", page=page, q=q or "", role=role or "", roles=ROLE_LABELS)


@bp.route("/accounts/new", methods=["GET", "POST"])
def user_create():
    actor = _admin()
    form = UserForm()
    from ..registry.service import organization_choices

    form.organization.choices = [("", "—")] + [(o.id, o.name) for o in organization_choices(actor)]
    leftover: dict[str, list[str]] = {}
    if form.validate_on_submit():
        try:
            user = service.create_user(
                actor,
                username=form.username.data.strip(),
                password=form.password.data,
                role=form.role.data,
                organization_id=form.organization.data,
                region_code=(form.region.data or "").strip() or None,
                display_name=(form.display_name.data or "").strip() or None,
            )
        except ValidationFailed as exc:
            db.session.rollback()
            leftover = _show_errors(form, exc.errors)
        else:
            flash(_("账户 %(name)s 已创建", name=user.username), "success")
            return redirect(url_for("auth.user_list"))
    form.password.data = ""  # never echo a password back
    status = 422 if request.method == "POST" else 200
    return render_template("auth/user_form.html", form=form, leftover=leftover), status


@bp.route("/accounts/<int:user_id>/edit", methods=["GET", "POST"])
def user_edit(user_id: int):
    """Change an account's role, organisation, region or display name (audited)."""
    actor = _admin()
    user = service.get_user(actor, user_id)
    form = UserEditForm(
        data={
            "display_name": user.display_name,
            "role": user.role.value,
            "organization": user.organization_id,
            "region": user.region_code,
        }
    )
    from ..registry.service import organization_choices

    form.organization.choices = [("", "—")] + [(o.id, o.name) for o in organization_choices(actor)]
    leftover: dict[str, list[str]] = {}
    if form.validate_on_submit():
        try:
            service.update_user(
                actor,
                user_id,
                {
                    "role": form.role.data,
                    "organization_id": form.organization.data,
                    "region_code": (form.region.data or "").strip() or None,
                    "display_name": (form.display_name.data or "").strip() or None,
                },
            )
        except ValidationFailed as exc:
            db.session.rollback()
            leftover = _show_errors(form, exc.errors)
        else:
            flash(_("账户 %(name)s 已更新", name=user.username), "success")
            return redirect(url_for("auth.user_list"))
    status = 422 if request.method == "POST" else 200
    return render_template("auth/user_edit.html", form=form, user=user, leftover=leftover), status


@bp.post("/accounts/<int:user_id>/active")
def user_active(user_id: int):
    actor = _admin()
    active = request.form.get("active") == "1"
    try:
        user = service.set_user_active(actor, user_id, active)
    except ValidationFailed:
        db.session.rollback()
        flash(_("不能停用自己的账户"), "error")
    else:
        flash(
            _("账户 %(name)s 已启用", name=user.username) if active else _("账户 %(name)s 已停用", name=user.username),
            "success",
        )
    return redirect(url_for("auth.user_list"))
