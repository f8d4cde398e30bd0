"""Process trees: the block-structured models the inductive miner produces.

A tree is a leaf (an activity label, or ``None`` for the silent step *tau*) or an operator over
children: sequence ``->``, exclusive choice ``X``, concurrency ``+`` and loop ``*`` (first child
is the body, the others are alternatives to redo before the body runs again).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum

__all__ = ["Operator", "ProcessTree", "fold", "tau"]


class Operator(StrEnum):
    """Process-tree operators (pm4py's notation)."""

    SEQUENCE = "->"
    XOR = "X"
    PARALLEL = "+"
    LOOP = "*"


@dataclass(frozen=True, slots=True)
class ProcessTree:
    """A process-tree node.

    Attributes:
        operator: The operator of an inner node; ``None`` for a leaf.
        label: Activity of a leaf; ``None`` for tau (and inner nodes).
        children: Child nodes of an inner node.
    """

    operator: Operator | None = None
    label: str | None = None
    children: tuple[ProcessTree, ...] = ()

    @property
    def is_leaf(self) -> bool:
        """True for an activity or tau leaf."""
        return self.operator is None

    @property
    def is_tau(self) -> bool:
        """True for the silent leaf."""
        return self.operator is None and self.label is None

    def leaves(self) -> Iterator[ProcessTree]:
        """Every leaf, left to right."""
        if self.operator is None:
            yield self
            return
        for child in self.children:
            yield from child.leaves()

    def activities(self) -> set[str]:
        """Labels of the visible leaves."""
        return {leaf.label for leaf in self.leaves() if leaf.label is not None}

    def __str__(self) -> str:
        if self.operator is None:
            return "tau" if self.label is None else f"'{self.label}'"
        return f"{self.operator.value}( {', '.join(str(c) for c in self.children)} )"


def tau() -> ProcessTree:
    """The silent leaf."""
    return ProcessTree()


def fold(tree: ProcessTree) -> ProcessTree:
    """Simplify without changing the language.

    Flattens nested sequences, choices and concurrency of the same kind, drops tau from sequences
    and concurrency, keeps one tau per choice and replaces single-child operators by the child.
    """
    if tree.operator is None:
        return tree
    kids = [fold(c) for c in tree.children]
    op = tree.operator
    if op is Operator.LOOP:
        return ProcessTree(op, None, tuple(kids))
    flat: list[ProcessTree] = []
    for kid in kids:
        if kid.operator is op:
            flat.extend(kid.children)
        else:
            flat.append(kid)
    if op in (Operator.SEQUENCE, Operator.PARALLEL):
        flat = [k for k in flat if not k.is_tau]
    else:
        seen_tau = False
        kept: list[ProcessTree] = []
        for k in flat:
            if k.is_tau:
                if seen_tau:
                    continue
                seen_tau = True
            kept.append(k)
        flat = kept
    if not flat:
        return tau()
    if len(flat) == 1:
        return flat[0]
    return ProcessTree(op, None, tuple(flat))
