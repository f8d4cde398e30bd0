"""Evaluating decisions, BKMs and decision services of a model and the models it imports."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from liucheng.errors import DmnError, FeelError, LiuchengError
from liucheng.feel import FeelFunction, FeelType, FeelWarning, to_feel

from ._compile import Compiled, Compiler
from ._types import ANY, DmnType, lookup_builtin, parse_type_ref
from .model import (
    BusinessKnowledgeModel,
    Decision,
    DecisionService,
    Definitions,
    Href,
    InputData,
    ItemDefinition,
)

__all__ = ["DecisionResult", "DmnModel", "is_dmn_import"]

_Element = Decision | InputData | BusinessKnowledgeModel | DecisionService
#: Import names from the main model to a model instance: each import is its own instance.
Path_ = tuple[str, ...]
_Key = tuple[Path_, str, str]


@dataclass(frozen=True)
class DecisionResult:
    """The outcome of evaluating a decision or decision service.

    Attributes:
        decision_id: Id of the decision (or decision service) evaluated.
        name: Its name.
        value: The result (FEEL values: ``Decimal``, ``str``, ``date``, ``dict``...); null
            (``None``) when evaluation failed.
        errors: Evaluation errors met on the way (each made some value null).
        warnings: FEEL warnings (null-per-spec situations).
        outputs: For decision services: each output decision's value by name.
    """

    decision_id: str
    name: str
    value: Any
    errors: tuple[str, ...] = ()
    warnings: tuple[FeelWarning, ...] = ()
    outputs: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """True when no evaluation error occurred."""
        return not self.errors


class _Scope:
    """One model (namespace) of a :class:`DmnModel`: its elements, types and compiled logic."""

    def __init__(self, owner: DmnModel, defs: Definitions, uid: str) -> None:
        self.owner = owner
        self.defs = defs
        self.uid = uid
        self.ns = defs.namespace
        #: Imported models by the namespace the import names (set up by DmnModel).
        self.links: dict[str, _Scope] = {}
        self.by_id: dict[str, _Element] = {}
        for group in (defs.decisions, defs.input_data, defs.bkms, defs.decision_services):
            for el in group:
                self.by_id[el.id] = el
        self.by_name: dict[str, _Element] = {}
        for group in (defs.decision_services, defs.bkms, defs.input_data, defs.decisions):
            for el in group:
                self.by_name[el.name] = el
        self.imports = {imp.name: imp.namespace for imp in defs.imports}
        self.items = {item.name: item for item in defs.item_definitions}
        self._types: dict[str, DmnType] = {}
        self._resolving: set[str] = set()
        self.compiler = Compiler(defs.file, self.resolve_type, defs.expression_language)
        self.logic: dict[str, Compiled] = {}
        #: Item definitions as FEEL types (for ``instance of`` and typed FEEL parameters).
        self.feel_types: dict[str, Any] = {}

    # -- names ---------------------------------------------------------------------------------

    def find(self, href: Href) -> tuple[_Scope, _Element]:
        scope: _Scope = self
        if href.namespace and href.namespace != self.ns:
            other = self.links.get(href.namespace)
            if other is None:
                raise DmnError(
                    f"reference to {href.namespace}#{href.id}: that model is not loaded",
                    code="dmn.import.missing",
                    file=self.defs.file,
                    hint="put the imported model in the same folder",
                )
            scope = other
        el = scope.by_id.get(href.id)
        if el is None:
            raise DmnError(
                f"reference to unknown element {href.id!r}",
                code="dmn.reference.unknown",
                file=self.defs.file,
                element_id=href.id,
                hint="check the href of the requirement",
            )
        return scope, el

    def child_path(self, path: Path_, target: _Scope) -> Path_:
        """The import path of ``target`` reached from here (``path`` is this model's)."""
        if target is self:
            return path
        prefix = self.import_name(target)
        return (*path, prefix) if prefix else path

    def qualified(self, target: _Scope, name: str) -> str:
        """``name`` of an element of ``target`` as seen from here (``import.name`` if foreign)."""
        if target is self:
            return name
        prefix = self.import_name(target)
        return f"{prefix}.{name}" if prefix else name

    def import_name(self, target: _Scope) -> str | None:
        """The name under which ``target`` is imported here (``None``: not imported)."""
        for name, imported in self.imports.items():
            if self.links.get(imported) is target:
                return name
        return None

    def put(self, ctx: dict[str, Any], target: _Scope, name: str, value: Any) -> None:
        """Bind ``name`` of ``target`` scope in ``ctx``, qualified by import name if foreign."""
        if target is self:
            ctx[name] = value
            return
        prefix = self.import_name(target)
        if not prefix:
            ctx[name] = value
            return
        holder = ctx.get(prefix)
        if not isinstance(holder, dict):
            holder = {}
        else:
            holder = dict(holder)
        holder[name] = value
        ctx[prefix] = holder

    # -- types ---------------------------------------------------------------------------------

    def resolve_type(self, ref: str | None) -> DmnType:
        if ref is None or not ref.strip():
            return ANY
        got = self._types.get(ref)
        if got is not None:
            return got
        dtype = self._resolve(ref.strip())
        self._types[ref] = dtype
        return dtype

    def _resolve(self, ref: str) -> DmnType:
        item = self.items.get(ref)
        if item is not None:
            if ref in self._resolving:
                return ANY  # recursive type: stop checking at the cycle
            self._resolving.add(ref)
            try:
                return self._item_type(item)
            finally:
                self._resolving.discard(ref)
        if "." in ref:
            prefix, _, rest = ref.partition(".")
            ns = self.imports.get(prefix)
            if ns is not None and ns in self.links:
                return self.links[ns].resolve_type(rest)
        if ":" in ref:
            prefix, _, rest = ref.partition(":")
            if rest in self.items and prefix not in {"feel", "xsd", "xs"}:
                return self.resolve_type(rest)
        builtin = lookup_builtin(ref, {})
        if builtin is not None:
            return builtin
        base, element = parse_type_ref(ref)
        if base == "list" and element is not None:
            return DmnType(ref, builtin="list", element=self.resolve_type(element))
        if ref.startswith("context<"):
            return DmnType(ref, builtin="context")
        if ref.startswith("function<"):
            return DmnType(ref, function=True)
        if ref.startswith("range<"):
            return DmnType(ref, builtin="range")
        self.compiler.problems.append(
            DmnError(
                f"unknown type {ref!r}",
                code="dmn.type.unknown",
                file=self.defs.file,
                hint="define an itemDefinition with that name or use a FEEL type "
                "(number, string, boolean, date, ...); values of this type are not checked",
            )
        )
        return ANY

    def _item_type(self, item: ItemDefinition) -> DmnType:
        # allowedValues constrain each item of a collection; typeConstraint (DMN 1.5) the
        # value itself
        allowed = self.compiler.unary(item.allowed_values, item.line, item.id)
        constraint = self.compiler.unary(item.type_constraint, item.line, item.id)
        if item.components:
            single = DmnType(
                item.name,
                components={c.name: self._item_type(c) for c in item.components},
            )
        elif item.function_item is not None:
            out_ref = item.function_item.output_type_ref
            single = DmnType(
                item.name, function=True, output=self.resolve_type(out_ref) if out_ref else None
            )
        elif item.type_ref is not None:
            base = self.resolve_type(item.type_ref)
            if allowed is None and constraint is None and not item.is_collection:
                return base
            single = DmnType(item.name, base=base)
        else:
            single = DmnType(item.name, builtin="any")
        if item.is_collection:
            if allowed is not None:
                single = DmnType(item.name, base=single, allowed=allowed)
            return DmnType(item.name, builtin="list", element=single, constraint=constraint)
        single.allowed = allowed
        single.constraint = constraint
        return single

    # -- compiled logic ------------------------------------------------------------------------

    def decision_logic(self, decision: Decision) -> Compiled:
        fn = self.logic.get(decision.id)
        if fn is None:
            fn = self.compiler.expression(decision.expression)
            self.logic[decision.id] = fn
        return fn

    def bkm_logic(self, bkm: BusinessKnowledgeModel) -> Compiled | None:
        if bkm.logic is None:
            return None
        fn = self.logic.get(bkm.id)
        if fn is None:
            declared = self.resolve_type(bkm.variable.type_ref)
            fn = self.compiler.function(
                bkm.logic, bkm.name, declared.output if declared.function else None
            )
            self.logic[bkm.id] = fn
        return fn

    def compile_all(self) -> None:
        for decision in self.defs.decisions:
            self.decision_logic(decision)
        for bkm in self.defs.bkms:
            self.bkm_logic(bkm)
        for item in self.defs.item_definitions:
            self.feel_types[item.name] = FeelType(item.name, self.resolve_type(item.name).instance)
        for group in (
            self.defs.decisions,
            self.defs.input_data,
            self.defs.bkms,
            self.defs.decision_services,
        ):
            for el in group:
                self.resolve_type(el.variable.type_ref)  # resolve now: problems show at load
        self.check_references()

    def check_references(self) -> None:
        """Record dangling requirement and decision-service references as problems."""
        refs: list[tuple[_Element, Href]] = []
        owners: list[Decision | BusinessKnowledgeModel] = [*self.defs.decisions, *self.defs.bkms]
        for owner in owners:
            refs.extend((owner, r.href) for r in owner.requirements if r.kind != "authority")
        for ds in self.defs.decision_services:
            for group in (
                ds.output_decisions,
                ds.encapsulated_decisions,
                ds.input_decisions,
                ds.input_data,
            ):
                refs.extend((ds, h) for h in group)
        for el, href in refs:
            try:
                self.find(href)
            except DmnError as exc:
                self.compiler.problems.append(
                    DmnError(
                        exc.message,
                        code=exc.code,
                        file=self.defs.file,
                        line=el.line,
                        element_id=el.id,
                        hint=exc.hint,
                    )
                )


class _Run:
    """One evaluation: input values, decision results (each computed once), errors."""

    def __init__(
        self,
        model: DmnModel,
        inputs: Mapping[str, Any],
        by_ns: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> None:
        self.model = model
        self.inputs = inputs
        self.by_ns = by_ns or {}
        self.values: dict[_Key, Any] = {}
        #: decisions being evaluated, by model and id: import paths may differ in a cycle
        self.active: list[tuple[str, str]] = []
        self.warnings: list[FeelWarning] = []
        self.errors: list[str] = []
        self.functions: dict[_Key, FeelFunction] = {}
        #: Names every decision of the main model sees besides its requirements (see
        #: ``DmnModel.decide(visible=...)``).
        self.visible: dict[str, Any] = {}

    def error(self, message: str, *, element_id: str | None = None) -> None:
        where = f"{element_id}: " if element_id else ""
        self.errors.append(where + message)

    # -- elements ------------------------------------------------------------------------------

    def value_of(self, scope: _Scope, path: Path_, el: _Element) -> Any:
        if isinstance(el, InputData):
            return self.input_value(scope, path, el)
        if isinstance(el, Decision):
            return self.decision_value(scope, path, el)
        if isinstance(el, BusinessKnowledgeModel):
            return self.bkm_function(scope, path, el)
        return self.service_function(scope, path, el)

    def given(self, scope: _Scope, path: Path_, name: str) -> Any:
        """An input value: nested under the import names of ``path``, else by namespace."""
        level: Any = self.inputs
        for step in path:
            level = level.get(step) if isinstance(level, dict) else None
        if isinstance(level, dict) and name in level:
            return level[name]
        return self.by_ns.get(scope.ns, {}).get(name)

    def input_value(self, scope: _Scope, path: Path_, el: InputData) -> Any:
        key = (path, scope.uid, el.id)
        if key in self.values:
            return self.values[key]
        value = self.given(scope, path, el.variable.name)
        if value is None and el.name != el.variable.name:
            value = self.given(scope, path, el.name)
        dtype = scope.resolve_type(el.variable.type_ref)
        conv, ok = dtype.coerce(value)
        if not ok:
            self.error(
                f"input {el.name!r}: value does not conform to type {el.variable.type_ref}",
                element_id=el.id,
            )
        self.values[key] = conv
        return conv

    def context_for(
        self, scope: _Scope, path: Path_, requirements: Iterable[Any]
    ) -> dict[str, Any]:
        ctx: dict[str, Any] = dict(scope.feel_types)
        if self.visible and not path:
            ctx.update(self.visible)  # requirements below take precedence
        for req in requirements:
            if req.kind == "authority":
                continue
            target_scope, el = scope.find(req.href)
            value = self.value_of(target_scope, scope.child_path(path, target_scope), el)
            scope.put(ctx, target_scope, el.variable.name, value)
        return ctx

    def decision_value(self, scope: _Scope, path: Path_, decision: Decision) -> Any:
        key = (path, scope.uid, decision.id)
        if key in self.values:
            return self.values[key]
        here = (scope.uid, decision.id)
        if here in self.active:
            cycle = [k[1] for k in self.active[self.active.index(here) :]] + [decision.id]
            raise DmnError(
                "requirement cycle: " + " -> ".join(cycle),
                code="dmn.drg.cycle",
                file=scope.defs.file,
                line=decision.line,
                element_id=decision.id,
                hint="a decision cannot depend on itself",
            )
        self.active.append(here)
        try:
            ctx = self.context_for(scope, path, decision.requirements)
            logic = scope.decision_logic(decision)
            try:
                value = logic(ctx, self)
            except FeelError as exc:
                self.error(f"decision {decision.name!r}: {exc.message}", element_id=decision.id)
                value = None
            except LiuchengError:
                raise
            except RecursionError:
                raise DmnError(
                    f"decision {decision.name!r}: evaluation nested too deeply",
                    code="dmn.evaluation.depth",
                    file=scope.defs.file,
                    line=decision.line,
                    element_id=decision.id,
                    hint="check for unbounded recursion in functions or BKMs",
                ) from None
            except Exception as exc:  # a defect must surface as our error, not a traceback
                raise DmnError(
                    f"decision {decision.name!r}: internal error {type(exc).__name__}: {exc}",
                    code="dmn.evaluation.internal",
                    file=scope.defs.file,
                    line=decision.line,
                    element_id=decision.id,
                    hint="please report this with the model",
                ) from exc
            dtype = scope.resolve_type(decision.variable.type_ref)
            conv, ok = dtype.coerce(value)
            if not ok:
                self.error(
                    f"decision {decision.name!r}: result does not conform to type "
                    f"{decision.variable.type_ref}",
                    element_id=decision.id,
                )
        finally:
            self.active.pop()
        self.values[key] = conv
        return conv

    def bkm_function(
        self, scope: _Scope, path: Path_, bkm: BusinessKnowledgeModel
    ) -> FeelFunction | None:
        key = (path, scope.uid, bkm.id)
        fn = self.functions.get(key)
        if fn is not None:
            return fn
        logic = scope.bkm_logic(bkm)
        if logic is None:
            return None
        # Bind the function before resolving requirements so recursive BKMs can see themselves.
        ctx: dict[str, Any] = dict(scope.feel_types)
        made = logic(ctx, self)
        if not isinstance(made, FeelFunction):
            return None
        self.functions[key] = made
        ctx[bkm.variable.name] = made
        ctx.update(self.context_for(scope, path, bkm.requirements))
        return made

    def service_function(
        self, scope: _Scope, path: Path_, service: DecisionService
    ) -> FeelFunction:
        key = (path, scope.uid, service.id)
        fn = self.functions.get(key)
        if fn is not None:
            return fn
        params = []
        for href in (*service.input_data, *service.input_decisions):
            target, el = scope.find(href)
            params.append(scope.qualified(target, el.variable.name))
        model = self.model

        def call(*args: Any) -> Any:
            if len(args) != len(params):
                self.error(
                    f"decision service {service.name!r} takes {len(params)} arguments, "
                    f"got {len(args)}",
                    element_id=service.id,
                )
                return None
            named = dict(zip(params, args, strict=False))
            return model._invoke_service(scope, path, service, named, self, strict=True)

        # variadic: FEEL passes the arguments as given, so a missing one can be told apart
        fn = FeelFunction(params, call, service.name, variadic=True)
        self.functions[key] = fn
        return fn


class DmnModel:
    """A DMN model loaded with the models it imports, compiled once, ready to evaluate.

    Args:
        definitions: The main model.
        imported: Other models. Imports are matched by namespace unless ``links`` says
            otherwise.
        links: For model ``i`` (0 = main, then ``imported`` in order): import namespace ->
            index of the model it names. ``load_model`` fills it, so a model can be imported
            under a namespace other than the one its file declares.
    """

    def __init__(
        self,
        definitions: Definitions,
        imported: Sequence[Definitions] = (),
        *,
        links: Mapping[int, Mapping[str, int]] | None = None,
    ) -> None:
        self.definitions = definitions
        nodes = [definitions, *imported]
        self.all_scopes = [_Scope(self, defs, str(i)) for i, defs in enumerate(nodes)]
        self.main = self.all_scopes[0]
        #: Scopes by declared namespace (the first model declaring it wins).
        self.scopes: dict[str, _Scope] = {}
        for scope in self.all_scopes:
            self.scopes.setdefault(scope.ns, scope)
        for index, scope in enumerate(self.all_scopes):
            given = (links or {}).get(index, {})
            for imp in scope.defs.imports:
                if not is_dmn_import(imp.import_type):
                    continue
                target = (
                    self.all_scopes[given[imp.namespace]]
                    if imp.namespace in given
                    else self.scopes.get(imp.namespace)
                )
                if target is None:
                    raise DmnError(
                        f"imported model {imp.namespace!r} ({imp.name!r}) was not found",
                        code="dmn.import.missing",
                        file=scope.defs.file,
                        hint="put the imported DMN file in the same folder or give a "
                        "relative locationURI",
                    )
                scope.links[imp.namespace] = target
        for scope in self.all_scopes:
            scope.compile_all()

    @property
    def problems(self) -> list[DmnError]:
        """Problems found while compiling: FEEL syntax errors, unsupported expressions,
        references to unknown elements. Evaluating the parts concerned gives null and an error.
        """
        return [p for s in self.all_scopes for p in s.compiler.problems]

    def validate(self) -> None:
        """Raise the first of :attr:`problems` (all of them listed in its ``details``).

        Raises:
            DmnError: When the model has problems.
        """
        problems = self.problems
        if not problems:
            return
        first = problems[0]
        raise DmnError(
            f"{len(problems)} problem(s) in the model; first: {first.message}",
            code=first.code,
            file=first.file,
            line=first.line,
            element_id=first.element_id,
            hint=first.hint,
            details={"problems": [p.to_dict() for p in problems]},
        )

    def _element(self, ident: str, kinds: tuple[type, ...]) -> _Element:
        scope = self.main
        el = scope.by_id.get(ident)
        if el is not None and isinstance(el, kinds):
            return el
        candidates: list[_Element] = [*scope.defs.decisions, *scope.defs.decision_services]
        for cand in candidates:
            if cand.name == ident and isinstance(cand, kinds):
                return cand
        names = ", ".join(repr(d.name) for d in self.definitions.decisions)
        raise DmnError(
            f"no decision {ident!r} in model {self.definitions.name!r}",
            code="dmn.decision.unknown",
            file=self.definitions.file,
            hint=f"known decisions: {names}" if names else "the model has no decisions",
        )

    def _run(
        self,
        inputs: Mapping[str, Any] | None,
        namespaced: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> _Run:
        values = to_feel(dict(inputs or {}))
        by_ns: dict[str, Mapping[str, Any]] = {}
        for ns, given in (namespaced or {}).items():
            if ns == self.main.ns:
                values.update(to_feel(dict(given)))
            else:
                by_ns[ns] = to_feel(dict(given))
        return _Run(self, values, by_ns)

    def decide(
        self,
        decision: str,
        inputs: Mapping[str, Any] | None = None,
        *,
        namespaced: Mapping[str, Mapping[str, Any]] | None = None,
        visible: Mapping[str, Any] | None = None,
    ) -> DecisionResult:
        """Evaluate ``decision`` (id or name) of the main model with ``inputs`` (by input name).

        Inputs of imported models go in a nested mapping under the import's name, or in
        ``namespaced`` by the imported model's namespace (needed for models imported only
        indirectly). Evaluation problems that the spec turns into null are reported in
        ``errors``/``warnings``. ``visible`` names are seen by every decision of the main model
        even without an information requirement: a BPMN engine's variables, the way Camunda and
        Zeebe evaluate decisions for business rule tasks.

        Raises:
            DmnError: Unknown decision, or a requirement cycle.
        """
        el = self._element(decision, (Decision, DecisionService))
        if isinstance(el, DecisionService):
            return self.invoke_service(decision, inputs)
        assert isinstance(el, Decision)
        run = self._run(inputs, namespaced)
        if visible:
            run.visible = to_feel(dict(visible))
        value = run.decision_value(self.main, (), el)
        return DecisionResult(el.id, el.name, value, tuple(run.errors), tuple(run.warnings))

    def invoke_bkm(self, bkm: str, arguments: Mapping[str, Any] | None = None) -> DecisionResult:
        """Invoke business knowledge model ``bkm`` (id or name) with arguments by parameter name.

        Raises:
            DmnError: When there is no such BKM.
        """
        found = self.main.by_id.get(bkm)
        if not isinstance(found, BusinessKnowledgeModel):
            found = next((b for b in self.definitions.bkms if b.name == bkm), None)
        if found is None:
            raise DmnError(
                f"no business knowledge model {bkm!r} in model {self.definitions.name!r}",
                code="dmn.bkm.unknown",
                file=self.definitions.file,
            )
        run = self._run(None)
        fn = run.bkm_function(self.main, (), found)
        value = None
        if fn is not None:
            value = fn.invoke([], to_feel(dict(arguments or {})))
        return DecisionResult(found.id, found.name, value, tuple(run.errors), tuple(run.warnings))

    def invoke_service(
        self, service: str, inputs: Mapping[str, Any] | None = None
    ) -> DecisionResult:
        """Invoke decision service ``service`` with its parameters by name.

        Raises:
            DmnError: When there is no such decision service.
        """
        el = self._element(service, (DecisionService,))
        assert isinstance(el, DecisionService)
        run = self._run(None)
        values = to_feel(dict(inputs or {}))
        outputs: dict[str, Any] = {}
        value = self._invoke_service(self.main, (), el, values, run, outputs=outputs)
        return DecisionResult(
            el.id, el.name, value, tuple(run.errors), tuple(run.warnings), outputs
        )

    def _invoke_service(
        self,
        scope: _Scope,
        path: Path_,
        service: DecisionService,
        named: Mapping[str, Any],
        outer: _Run,
        *,
        outputs: dict[str, Any] | None = None,
        strict: bool = False,
    ) -> Any:
        sub = _Run(self, {})  # only the parameters are known inside the service
        sub.warnings = outer.warnings
        sub.errors = outer.errors
        for href in service.input_data:
            target, el = scope.find(href)
            assert isinstance(el, InputData)
            dtype = target.resolve_type(el.variable.type_ref)
            conv, ok = dtype.coerce(named.get(scope.qualified(target, el.variable.name)))
            if not ok:
                sub.error(f"parameter {el.name!r} does not conform to its type", element_id=el.id)
                if strict:
                    return None
            sub.values[(scope.child_path(path, target), target.uid, el.id)] = conv
        for href in service.input_decisions:
            target, el = scope.find(href)
            assert isinstance(el, Decision)
            dtype = target.resolve_type(el.variable.type_ref)
            conv, ok = dtype.coerce(named.get(scope.qualified(target, el.variable.name)))
            if not ok:
                sub.error(f"parameter {el.name!r} does not conform to its type", element_id=el.id)
                if strict:
                    return None
            sub.values[(scope.child_path(path, target), target.uid, el.id)] = conv
        results: dict[str, Any] = {}
        value: Any
        for href in service.output_decisions:
            target, el = scope.find(href)
            assert isinstance(el, Decision)
            value = sub.decision_value(target, scope.child_path(path, target), el)
            results[scope.qualified(target, el.variable.name)] = value
        if outputs is not None:
            outputs.update(results)
        # DMN 1.3 made a service with one output decision return that decision's value
        # (DMN13-163); a DMN 1.1/1.2 service always returns the context of its outputs.
        unwrap = len(results) == 1 and scope.defs.dmn_version not in _CONTEXT_RESULT_VERSIONS
        value = next(iter(results.values())) if unwrap else results
        dtype = scope.resolve_type(service.variable.type_ref)
        if dtype.function:
            dtype = dtype.output or ANY
        conv, ok = dtype.coerce(value)
        if not ok:
            outer.error(f"decision service {service.name!r}: result has the wrong type")
            if outputs is not None:
                outputs.update(dict.fromkeys(outputs))
        return conv


_CONTEXT_RESULT_VERSIONS = frozenset({"1.1", "1.2"})


def is_dmn_import(import_type: str | None) -> bool:
    return import_type is None or "DMN" in import_type or "dmn" in import_type
