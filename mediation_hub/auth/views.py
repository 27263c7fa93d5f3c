"""Sign-in and sign-out pages (session cookie, CSRF-protected form, rate-limited)."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional

from ..core.actor import Role
from ..core.filters import ROLE_LABELS
from ..core.pagination import paginate
from ..errors import PermissionDenied, ValidationFailed
from ..extensions import db, limiter
from . import service
from .current import current_actor

bp = Blueprint("auth", __name__, template_folder="templates")


class SignInForm(FlaskForm):
    username = StringField(_l("用户名"), validators=[DataRequired(), Length(max=60)])
    password = PasswordField(_l("密码"), validators=[DataRequired(), Length(max=200)])


def _safe_next(target: str | None) -> str:
    """Only same-site relative paths, so sign-in cannot be used as an open redirect."""
    if target and target.startswith("/") and not target.startswith("//") and not urlsplit(target).netloc:
        return target
    return url_for("home")


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"], methods=["POST"])
def login():
    form = SignInForm()
    if form.validate_on_submit():
        user = service.authenticate(form.username.data, form.password.data, remote_addr=request.remote_addr)
        db.session.commit()
        if user is not None:
            login_user(user)
            return redirect(_safe_next(request.args.get("next")))
        flash(_("用户名或密码错误"), "error")
    status = 422 if request.method == "POST" else 200
    return render_template("auth/login.html", form=form), status


@bp.post("/logout")
def logout():
    logout_user()
    return redirect(url_for("auth.login"))


# --- account administration (administrators) ------------------------------------------------------------

class UserForm(FlaskForm):
    username = StringField(_l("用户名"), validators=[DataRequired(), Length(max=60)])
    display_name = StringField(_l("显示名称"), validators=[Optional(), Length(max=60)])
    role = SelectField(_l("角色"), choices=[(r.value, _l(ROLE_LABELS[r.value])) for r in Role],
                       validators=[DataRequired()])
    organization = SelectField(_l("所属组织"), coerce=lambda v: int(v) if v not in (None, "", "None") else None,
                               validate_choice=False, validators=[Optional()],
                               description=_l("调解员和法律援助工作人员必填"))
    region = StringField(_l("管辖区域"), validators=[Optional(), Length(max=12)])
    password = PasswordField(_l("初始密码"), validators=[DataRequired(), Length(max=200)],
                             description=_l("至少 %(n)s 个字符", n=service.MIN_PASSWORD_LENGTH))


def _admin():
    actor = current_actor()
    if not actor.has_role(Role.admin):
        raise PermissionDenied(_("只有系统管理员可以管理账户"))
    return actor


@bp.get("/accounts")
def user_list():
    actor = _admin()
    role = request.args.get("role") or None
    role = role if role in {r.value for r in Role} else None
    q = (request.args.get("q") or "").strip() or None
    page = paginate(service.list_users(actor, q=q, role=Role(role) if role else None),
                    max(request.args.get("page", 1, type=int) or 1, 1), 50)
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
                actor, username=form.username.data.strip(), password=form.password.data, role=form.role.data,
                organization_id=form.organization.data, region_code=(form.region.data or "").strip() or None,
                display_name=(form.display_name.data or "").strip() or None)
        except ValidationFailed as exc:
            db.session.rollback()
            for name, messages in exc.errors.items():
                field = form._fields.get(name)
                if field is None:
                    leftover[name] = messages
                else:
                    field.errors = [*field.errors, *messages]
        else:
            db.session.commit()
            flash(_("账户 %(name)s 已创建", name=user.username), "success")
            return redirect(url_for("auth.user_list"))
    form.password.data = ""  # never echo a password back
    status = 422 if request.method == "POST" else 200
    return render_template("auth/user_form.html", form=form, leftover=leftover), status


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
        db.session.commit()
        flash(_("账户 %(name)s 已启用", name=user.username) if active else
              _("账户 %(name)s 已停用", name=user.username), "success")
    return redirect(url_for("auth.user_list"))
