"""Each package writes only its own tables (shared/CONVENTIONS.md point 17).

A table belongs to the package whose module defines its model: ``mediation_hub.<pkg>.models`` (or any other
module of ``mediation_hub.<pkg>``, such as ``reporting.aggregates``) → ``<pkg>``; ``mediation_hub.core.*`` →
``core``. Another package changes those rows only by calling the owner's service functions
(``cases.service.change_handling_organization``, ``cases.service.erase_party_batch``, the cases bulk path of the
import …); reading any table stays allowed everywhere.

The guard reads every module under ``mediation_hub/<pkg>/`` with ``ast`` (nothing is executed) and reports, as
``file:line``, what looks like a write to another package's table:

* ``insert/update/delete(X)`` (``sa.``, ``db.`` or a dialect's ``insert``) and ``X.__table__`` in such a call or
  with ``.insert()/.update()/.delete()``, where ``X`` is another package's model — named directly, through an
  import alias, or through a plain local alias (``app = LegalAidApplication``);
* ``X(...)``: constructing another package's model (a row that would be added);
* ``<name>.<attr> = …`` (also ``+=``, ``setattr(<name>, …)``, ``del``), ``<name>.<collection>.append/remove/…(…)``,
  a setter ``<name>.set_…(…)`` (``set_id_number``) and ``db.session.delete(<name>)``, where ``<name>`` (or
  ``self.<name>``, ``transfer.<name>``) is a well-known instance name of another package's model:
  the class name in snake case (``case``, ``party``, ``transfer``, ``legal_aid_application`` …) and the short
  names the code uses (``application``, ``org``, ``mediator`` …; see ``INSTANCE_NAMES``). This is a heuristic: it
  trusts names, so a variable called ``case`` that holds something else would be reported too (rename it), and
  a foreign row reached under another name is not seen.

Outside the rule, and not scanned: the seeds and demo data (``mediation_hub/seed.py``, ``demo.py``), the
migrations, ``bench/`` and the tests, which build whole worlds across packages on purpose. The app-wiring modules
directly in ``mediation_hub/`` (web.py, api.py, cli.py …) are scanned as a package that owns no table."""

from __future__ import annotations

import ast
import importlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

from mediation_hub.extensions import db

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "mediation_hub"
NOT_SCANNED = {"seed.py", "demo.py"}  # seeds and demo data build whole worlds across packages on purpose
APP_WIRING = "app"  # the modules directly in mediation_hub/: they own no table
WRITE_FUNCTIONS = {"insert", "update", "delete"}
COLLECTION_CHANGES = {"append", "remove", "extend", "clear", "pop", "add", "discard", "insert"}
# Short names the code gives instances, beside each class name in snake case.
INSTANCE_NAMES = {
    "application": "LegalAidApplication",
    "org": "Organization",
    "organisation": "Organization",
    "sub": "ReportSubscription",
    "subscription": "ReportSubscription",
    "proposal": "AgreementProposal",
    "handover": "LegalAidHandover",
    "token": "ApiToken",
    "entry": "AuditEntry",
}


def owner_of_module(module: str) -> str:
    """``mediation_hub.cases.models`` → ``cases``; a module directly in the package → the app wiring."""
    parts = module.split(".")
    return parts[1] if len(parts) > 2 else APP_WIRING


def snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


@dataclass(frozen=True)
class Model:
    name: str
    module: str
    table: str

    @property
    def owner(self) -> str:
        return owner_of_module(self.module)


def models() -> dict[tuple[str, str], Model]:
    """Every mapped class, by (defining module, class name)."""
    found = {}
    for mapper in db.Model.registry.mappers:
        cls = mapper.class_
        found[(cls.__module__, cls.__name__)] = Model(cls.__name__, cls.__module__, cls.__table__.name)
    return found


def instance_names(known: dict[tuple[str, str], Model]) -> dict[str, Model]:
    by_class = {model.name: model for model in known.values()}
    names = {snake(model.name): model for model in known.values()}
    names.update({short: by_class[cls] for short, cls in INSTANCE_NAMES.items() if cls in by_class})
    return names


@cache
def defined_as(source: str, name: str) -> tuple[str, str]:
    """Where ``source.name`` is defined (a package re-exports its models): (module, class name)."""
    try:
        value = vars(importlib.import_module(source)).get(name)
    except ImportError:
        return ("", "")
    if not issubclass(type(value), type):  # type(), not isinstance(): a proxy (flask.request) must not resolve
        return ("", "")
    return (value.__module__, value.__name__)


def module_name(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")


def absolute(module: str, node: ast.ImportFrom, is_package: bool) -> str:
    if not node.level:
        return node.module or ""
    base = module.split(".")
    base = base[: len(base) - node.level + (1 if is_package else 0)]
    return ".".join([*base, node.module] if node.module else base)


@dataclass(frozen=True)
class Finding:
    where: str
    what: str

    def __str__(self) -> str:
        return f"{self.where}: {self.what}"


class Scanner(ast.NodeVisitor):
    """One module: which names stand for which models, then every write to another package's."""

    def __init__(
        self, where: str, module: str, is_package: bool, known: dict[tuple[str, str], Model], names: dict[str, Model]
    ) -> None:
        self.where, self.module, self.is_package, self.known, self.names = where, module, is_package, known, names
        self.owner = owner_of_module(module)
        self.models: dict[str, Model] = {}  # local name → model
        self.modules: dict[str, str] = {}  # local name → module (``from ..cases import models as case_models``)
        self.findings: list[Finding] = []

    # --- what names stand for ------------------------------------------------------------------------------

    def bind(self, tree: ast.Module) -> None:
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                self._bind_import_from(node)
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    self.modules[alias.asname or alias.name] = alias.name
        for node in ast.walk(tree):  # local aliases: ``app = LegalAidApplication``, ``app, n = LegalAidApplication, 0``
            if isinstance(node, ast.Assign):
                for target in node.targets:
                    self._bind_alias(target, node.value)

    def _bind_import_from(self, node: ast.ImportFrom) -> None:
        source = absolute(self.module, node, self.is_package)
        for alias in node.names:
            local = alias.asname or alias.name
            model = self.known.get((source, alias.name)) or self._reexported(source, alias.name)
            if model is not None:
                self.models[local] = model
            else:
                self.modules[local] = f"{source}.{alias.name}"

    def _reexported(self, source: str, name: str) -> Model | None:
        return self.known.get(defined_as(source, name))

    def _bind_alias(self, target: ast.expr, value: ast.expr) -> None:
        if isinstance(target, ast.Tuple) and isinstance(value, ast.Tuple):
            for one_target, one_value in zip(target.elts, value.elts, strict=False):
                self._bind_alias(one_target, one_value)
        elif isinstance(target, ast.Name) and (model := self.model_of(value)) is not None:
            self.models[target.id] = model

    def model_of(self, node: ast.expr) -> Model | None:
        """The model a class expression names: ``Case``, ``case_models.Case``, ``Case.__table__``."""
        if isinstance(node, ast.Attribute) and node.attr == "__table__":
            return self.model_of(node.value)
        if isinstance(node, ast.Name):
            return self.models.get(node.id)
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in self.modules:
            return self.known.get((self.modules[node.value.id], node.attr)) or self._reexported(
                self.modules[node.value.id], node.attr
            )
        return None

    def instance_of(self, node: ast.expr) -> Model | None:
        """The model an instance expression names by convention: ``case``, ``transfer.case``, ``self.case``
        (not ``form.organization``: the attribute of something that is not a known instance is left alone)."""
        if isinstance(node, ast.Name):
            return self.names.get(node.id)
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            known_base = node.value.id == "self" or node.value.id in self.names
            return self.names.get(node.attr) if known_base else None
        return None

    # --- what is a write -----------------------------------------------------------------------------------

    def foreign(self, model: Model | None) -> bool:
        return model is not None and model.owner != self.owner

    def report(self, node: ast.AST, what: str, model: Model) -> None:
        where = f"{self.where}:{getattr(node, 'lineno', 0)}"
        self.findings.append(Finding(where, f"{what} ({model.table}, owned by {model.owner})"))

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
        if name in WRITE_FUNCTIONS and node.args and self.foreign(model := self.model_of(node.args[0])):
            self.report(node, f"{name}({ast.unparse(node.args[0])})", model)
        elif (
            name in WRITE_FUNCTIONS
            and isinstance(func, ast.Attribute)
            and isinstance(func.value, ast.Attribute)
            and func.value.attr == "__table__"
            and self.foreign(model := self.model_of(func.value))
        ):
            self.report(node, ast.unparse(func), model)
        elif self.foreign(model := self.model_of(func)):
            self.report(node, f"{ast.unparse(func)}(...) constructs a row", model)
        elif name in COLLECTION_CHANGES and isinstance(func, ast.Attribute) and isinstance(func.value, ast.Attribute):
            if self.foreign(model := self.instance_of(func.value.value)):
                self.report(node, f"{ast.unparse(func)}(...)", model)
        elif name.startswith("set_") and isinstance(func, ast.Attribute):
            if self.foreign(model := self.instance_of(func.value)):
                self.report(node, f"{ast.unparse(func)}(...)", model)
        elif name == "delete" and ast.unparse(func) == "db.session.delete" and node.args:
            if self.foreign(model := self.instance_of(node.args[0])):
                self.report(node, f"db.session.delete({ast.unparse(node.args[0])})", model)
        elif name == "setattr" and node.args and self.foreign(model := self.instance_of(node.args[0])):
            self.report(node, f"setattr({ast.unparse(node.args[0])}, ...)", model)
        self.generic_visit(node)

    def _assigned(self, targets: list[ast.expr], verb: str) -> None:
        for target in targets:
            for one in target.elts if isinstance(target, ast.Tuple) else [target]:
                if isinstance(one, ast.Attribute) and self.foreign(model := self.instance_of(one.value)):
                    self.report(one, f"{ast.unparse(one)} {verb}", model)

    def visit_Assign(self, node: ast.Assign) -> None:
        self._assigned(node.targets, "= …")
        self.generic_visit(node)

    def visit_AugAssign(self, node: ast.AugAssign) -> None:
        self._assigned([node.target], "changed in place")
        self.generic_visit(node)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        if node.value is not None:
            self._assigned([node.target], "= …")
        self.generic_visit(node)

    def visit_Delete(self, node: ast.Delete) -> None:
        self._assigned(node.targets, "deleted")
        self.generic_visit(node)


def scanned_files() -> Iterator[Path]:
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.parent == PACKAGE and path.name in NOT_SCANNED:
            continue
        yield path


def findings_in(
    source: str, where: str, module: str, is_package: bool, known: dict[tuple[str, str], Model]
) -> list[Finding]:
    """The writes to another package's tables in one module's ``source``."""
    scanner = Scanner(where, module, is_package, known, instance_names(known))
    tree = ast.parse(source, filename=where)
    scanner.bind(tree)
    scanner.visit(tree)
    return scanner.findings


def test_no_package_writes_another_packages_tables(app):
    known = models()
    found = [
        str(finding)
        for path in scanned_files()
        for finding in findings_in(
            path.read_text(encoding="utf-8"),
            str(path.relative_to(ROOT)),
            module_name(path),
            path.name == "__init__.py",
            known,
        )
    ]
    assert found == [], "writes to another package's tables (call the owner's service instead):\n" + "\n".join(found)


# --- the guard itself --------------------------------------------------------------------------------------------


def test_every_table_has_an_owning_package(app):
    owners = {model.table: model.owner for model in models().values()}
    assert owners["cases"] == owners["parties"] == owners["case_events"] == "cases"
    assert owners["transfers"] == owners["case_co_organizations"] == "transfers"
    assert owners["legal_aid_applications"] == "legal_aid"
    assert owners["case_daily_stats"] == "reporting"  # defined in reporting/aggregates.py
    assert owners["calendar_days"] == owners["job_runs"] == "core"
    assert APP_WIRING not in owners.values()


SAMPLE = """
import sqlalchemy as sa
from ..cases.models import Case, Party
from ..cases import models as case_models
from ..legal_aid.models import LegalAidApplication
from .models import Transfer


def writes(transfer, case, organization, application):
    app, count = LegalAidApplication, 0
    sa.update(Party).values(name="x")
    db.session.execute(sa.insert(Case.__table__), [])
    case_models.Party.__table__.delete()
    sa.update(app)
    db.session.add(case_models.CaseEvent(code="x"))
    case.organization = organization
    transfer.case.studio_id = None
    application.version += 1
    case.mediators.remove(organization)
    db.session.delete(case)
    setattr(case, "summary", "x")
    organization.set_phone(None)


def allowed(transfer, case, form):
    transfer.status = "accepted"
    sa.update(Transfer).values(version=Transfer.version + 1)
    db.session.add(Transfer(case_id=case.id))
    rows = sa.select(Case.id).where(Case.number == "x")
    name = case.number
    form.organization.choices = []
    transfer.set_deadline(None)
    return rows, name
"""


def test_the_guard_sees_each_kind_of_write(app):
    """SAMPLE as a module of the transfers package: each line of ``writes`` but its first is one finding (12),
    nothing in ``allowed``."""
    found = findings_in(SAMPLE, "sample.py", "mediation_hub.transfers.sample", False, models())
    lines = [int(f.where.rsplit(":", 1)[1]) for f in found]
    first_write = SAMPLE.splitlines().index('    sa.update(Party).values(name="x")') + 1
    assert lines == list(range(first_write, first_write + 12)), [str(f) for f in found]


@pytest.mark.parametrize(
    ("module", "owner"),
    [
        ("mediation_hub.cases.models", "cases"),
        ("mediation_hub.cases.service.bulk", "cases"),
        ("mediation_hub.core.calendar", "core"),
        ("mediation_hub.cli", APP_WIRING),
    ],
)
def test_owner_of_a_module(module, owner):
    assert owner_of_module(module) == owner
