"""Decision tables: rule matching and hit policies (DMN 1.5 §8.2.11)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from liucheng.errors import DmnError

from ._compile import Compiled, Compiler, RunState, Tests
from ._fast import fast_test, literal_key, literal_keys
from ._types import DmnType
from .model import DecisionTable

__all__ = ["CompiledTable", "compile_table", "split_unary_list"]


def split_unary_list(text: str) -> list[str]:
    """Split a comma-separated unary tests text at top-level commas (quotes, brackets kept)."""
    parts: list[str] = []
    depth = 0
    quote = False
    start = 0
    i = 0
    while i < len(text):
        ch = text[i]
        if quote:
            if ch == "\\":
                i += 1
            elif ch == '"':
                quote = False
        elif ch == '"':
            quote = True
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(text[start:i].strip())
            start = i + 1
        i += 1
    parts.append(text[start:].strip())
    return [p for p in parts if p]


@dataclass
class _Output:
    name: str
    check: Tests | None
    priorities: list[Tests]
    dtype: DmnType
    default: Compiled | None


@dataclass
class _Rule:
    index: int
    tests: list[tuple[int, Tests]]
    outputs: list[Compiled]
    #: Python checks for simple entries (literals, comparisons, intervals), by input index
    fast: list[tuple[int, Callable[[Any], bool]]]


class CompiledTable:
    """A decision table ready to evaluate."""

    def __init__(self, table: DecisionTable, compiler: Compiler) -> None:
        self.table = table
        self.hit = table.hit_policy
        self.aggregation = table.aggregation
        self.inputs: list[tuple[Compiled, Tests | None]] = []
        for clause in table.inputs:
            expr = compiler.feel(clause.expression.text, clause.expression.line, clause.id)
            expr = compiler.typed(expr, clause.type_ref, f"decision table input {clause.label!r}")
            check = compiler.unary(clause.input_values, table.line, clause.id)
            self.inputs.append((expr, check))
        self.outputs: list[_Output] = []
        for out in table.outputs:
            prios: list[Tests] = []
            if out.output_values:
                for part in split_unary_list(out.output_values):
                    t = compiler.unary(part, table.line, out.id)
                    if t is not None:
                        prios.append(t)
            default = None
            if out.default_output_entry is not None and out.default_output_entry.text.strip():
                d = out.default_output_entry
                default = compiler.feel(d.text, d.line, d.id)
            self.outputs.append(
                _Output(
                    name=out.name or table.output_label or "",
                    check=compiler.unary(out.output_values, table.line, out.id),
                    priorities=prios,
                    dtype=compiler.resolve_type(out.type_ref),
                    default=default,
                )
            )
        self.indexed = self._index_columns(table)
        indexed_columns = {col for col, _, _ in self.indexed}
        self.rules: list[_Rule] = []
        for index, rule in enumerate(table.rules):
            tests = []
            fast: list[tuple[int, Callable[[Any], bool]]] = []
            for i, text in enumerate(rule.input_entries):
                if i in indexed_columns:
                    continue  # matched through the column index
                quick = fast_test(text, split_unary_list(text))
                if quick is not None:
                    fast.append((i, quick))
                    continue
                t = compiler.unary(text, rule.line, rule.id)
                if t is not None:
                    tests.append((i, t))
            outs = [
                compiler.feel(o.text, o.line or rule.line, o.id or rule.id)
                for o in rule.output_entries
            ]
            self.rules.append(_Rule(index, tests, outs, fast))
        self.single = len(self.outputs) == 1
        if self.hit in {"PRIORITY", "OUTPUT ORDER"} and not any(o.priorities for o in self.outputs):
            compiler.problems.append(
                DmnError(
                    f"hit policy {self.hit} needs output values to order the outputs",
                    code="dmn.table.priority",
                    file=compiler.file,
                    line=table.line,
                    element_id=table.id,
                    hint="list the output values in priority order, highest first",
                )
            )
        if self.aggregation is not None and self.hit != "COLLECT":
            compiler.problems.append(
                DmnError(
                    f"aggregation {self.aggregation} is only allowed with hit policy COLLECT",
                    code="dmn.table.aggregation",
                    file=compiler.file,
                    line=table.line,
                    element_id=table.id,
                    hint="remove the aggregation or use hit policy COLLECT",
                )
            )
        self.all_rules = (1 << len(self.rules)) - 1

    @staticmethod
    def _index_columns(
        table: DecisionTable,
    ) -> list[tuple[int, dict[tuple[str, Any], int], int]]:
        """Columns whose entries are all ``-`` or literals: ``(column, key -> rules, any-rules)``.

        Rule sets are bit masks (bit i = rule i); a lookup replaces one test per rule.
        """
        out = []
        for col in range(len(table.inputs)):
            index: dict[tuple[str, Any], int] = {}
            dash = 0
            usable = True
            for i, rule in enumerate(table.rules):
                text = rule.input_entries[col].strip()
                if not text or text == "-":
                    dash |= 1 << i
                    continue
                keys = literal_keys(split_unary_list(text))
                if keys is None:
                    usable = False
                    break
                for key in keys:
                    index[key] = index.get(key, 0) | (1 << i)
            if usable and index:
                out.append((col, {k: v | dash for k, v in index.items()}, dash))
        return out

    def _fail(self, run: RunState, message: str) -> None:
        run.error(message, element_id=self.table.id)

    def evaluate(self, ctx: dict[str, Any], run: RunState) -> Any:
        """Evaluate the table in ``ctx``; violations record an error and give null."""
        values = []
        for i, (expr, check) in enumerate(self.inputs):
            value = expr(ctx, run)
            if check is not None and value is not None and not check.test(value, ctx):
                self._fail(run, f"input {i + 1} value {value!r} is not among the input values")
                return None
            values.append(value)
        warnings = run.warnings
        matched: list[_Rule] = []
        first_only = self.hit == "FIRST"
        candidates = self.all_rules
        for col, index, dash in self.indexed:
            key = literal_key(values[col])
            candidates &= index.get(key, dash) if key is not None else dash
        rules = self.rules
        while candidates:
            low = candidates & -candidates
            candidates ^= low
            rule = rules[low.bit_length() - 1]
            if rule.fast and not all(check(values[i]) for i, check in rule.fast):
                continue
            for i, test in rule.tests:
                if not test.test(values[i], ctx, warnings=warnings):
                    break
            else:
                matched.append(rule)
                if first_only:
                    break
        if not matched:
            return self._default(ctx, run)
        rows: list[list[Any]] = []
        for rule in matched:
            row = []
            for out, fn in zip(self.outputs, rule.outputs, strict=True):
                value = fn(ctx, run)
                if out.check is not None and value is not None and not out.check.test(value, ctx):
                    self._fail(
                        run,
                        f"rule {rule.index + 1}: output {value!r} is not among the output values",
                    )
                    return None
                conv, ok = out.dtype.coerce(value)
                if not ok:
                    self._fail(run, f"rule {rule.index + 1}: output {value!r} has the wrong type")
                row.append(conv)
            rows.append(row)
        return self._apply_hit_policy(matched, rows, run)

    def _shape(self, row: list[Any]) -> Any:
        if self.single:
            return row[0]
        return {o.name: v for o, v in zip(self.outputs, row, strict=True)}

    def _default(self, ctx: dict[str, Any], run: RunState) -> Any:
        if all(o.default is None for o in self.outputs):
            if self.hit in {"COLLECT", "RULE ORDER", "OUTPUT ORDER"}:
                return 0 if self.aggregation == "COUNT" else (None if self.aggregation else [])
            return None
        row = [o.default(ctx, run) if o.default is not None else None for o in self.outputs]
        return self._shape(row)

    def _priority(self, row: list[Any]) -> tuple[int, ...]:
        key = []
        for out, value in zip(self.outputs, row, strict=True):
            rank = len(out.priorities)
            for i, test in enumerate(out.priorities):
                if value is not None and test.test(value, None):
                    rank = i
                    break
            key.append(rank)
        return tuple(key)

    def _apply_hit_policy(self, matched: list[_Rule], rows: list[list[Any]], run: RunState) -> Any:
        hit = self.hit
        if hit == "UNIQUE":
            if len(rows) > 1:
                nums = ", ".join(str(r.index + 1) for r in matched)
                self._fail(run, f"hit policy UNIQUE but rules {nums} match")
                return None
            return self._shape(rows[0])
        if hit == "FIRST":
            return self._shape(rows[0])
        if hit == "ANY":
            first = rows[0]
            for row in rows[1:]:
                if row != first:
                    self._fail(run, "hit policy ANY but matching rules give different outputs")
                    return None
            return self._shape(first)
        if hit == "PRIORITY":
            best = min(range(len(rows)), key=lambda i: self._priority(rows[i]))
            return self._shape(rows[best])
        if hit == "OUTPUT ORDER":
            order = sorted(range(len(rows)), key=lambda i: self._priority(rows[i]))
            return [self._shape(rows[i]) for i in order]
        if hit == "RULE ORDER":
            return [self._shape(r) for r in rows]
        # COLLECT
        if self.aggregation is None:
            return [self._shape(r) for r in rows]
        if not self.single:
            self._fail(run, "a COLLECT aggregation needs a table with one output")
            return None
        values = [r[0] for r in rows if r[0] is not None]
        if self.aggregation == "COUNT":
            return Decimal(len(values))
        if not values:
            return None
        try:
            if self.aggregation == "SUM":
                total: Any = values[0]
                for v in values[1:]:
                    total = total + v
                return total
            if self.aggregation == "MIN":
                return min(values)
            return max(values)
        except TypeError:
            self._fail(run, f"cannot aggregate {self.aggregation} over {values!r}")
            return None


def compile_table(table: DecisionTable, compiler: Compiler) -> CompiledTable:
    """Compile ``table`` once; evaluate it with :meth:`CompiledTable.evaluate`."""
    return CompiledTable(table, compiler)
