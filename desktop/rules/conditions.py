"""Conditions: rule-engine expressions over the typed snapshot, checked at save, compiled once.

``compile_condition(text, field=...)`` parses a condition against the snapshot's type map
(:data:`desktop.rules.snapshot.FIELD_TYPES`) and returns a :class:`Condition`, or raises
:class:`ConditionError` carrying the position (0-based offset, 1-based line and column) of
what is wrong: a syntax error, a name the snapshot doesn't have, an operator applied to the
wrong type, or an expression that isn't true/false.

A compiled condition also lists its *guards*: facts the condition cannot be true without
(``"x" in cart_skus``, ``tier == "gold"``, a bare boolean field) taken from its top-level
``and`` chain, which lets the catalogue skip most actions without evaluating them.
"""

from __future__ import annotations

import functools
import threading

import rule_engine
from rule_engine import ast as re_ast
from rule_engine import errors as re_errors
from rule_engine.types import DataType

from desktop.rules.snapshot import FIELD_TYPES

__all__ = ["Condition", "ConditionError", "compile_condition", "Fact", "rule_context", "snapshot_facts"]

#: rule-engine parses with one parser shared by every Rule (a class attribute, not thread-safe):
#: a catalogue compiled in a worker thread must not parse at the same time as a save.
_PARSING = threading.Lock()

#: A fact a snapshot may hold: (field, value) — a member of a list field, the value of a text
#: field, or True for a boolean field.
Fact = tuple[str, object]

#: Guards are preferred in this order: lists of SKUs pick out few actions, a tier many.
_GUARD_PREFERENCE = ("cart_skus", "cart_categories", "owned", "recommended", "associated", "segments",
                     "topic", "queue", "rfm_segment", "last_disposition", "dispositions", "channel",
                     "weekday", "tier")
_LOGIC_TOKENS = {"AND", "OR", "NOT", "LPAREN", "RPAREN"}


class ConditionError(ValueError):
    """A condition the planner must fix; ``position`` is a 0-based offset into the text."""

    def __init__(self, message: str, *, text: str, position: int, field: str = "", action_id: str = ""):
        self.message, self.text, self.field, self.action_id = message, text, field, action_id
        self.position = max(0, min(position, len(text)))
        before = text[:self.position]
        self.line = before.count("\n") + 1
        self.column = self.position - (before.rfind("\n") + 1) + 1
        where = f"{field}, " if field else ""
        super().__init__(f"{where}line {self.line} column {self.column}: {message}")

    def as_dict(self) -> dict[str, object]:
        return {"action_id": self.action_id, "field": self.field, "position": self.position,
                "line": self.line, "column": self.column, "message": self.message}


@functools.cache
def rule_context() -> rule_engine.Context:
    """The typed context every condition compiles against (one, shared: it is immutable)."""
    # A missing key of the site's context reads as null with `context&["campaign"]`; the dotted
    # form is deprecated by the engine, so it is refused here at save.
    return rule_engine.Context(type_resolver=rule_engine.type_resolver_from_dict(FIELD_TYPES),
                               mapping_attribute_lookup=False)


class Condition:
    """A compiled condition, split for speed into what a set lookup answers and the rest.

    Its top-level ``and`` chain becomes ``required`` facts (``"x" in cart_skus``,
    ``tier == "gold"``, ``at_risk``), ``forbidden`` ones (``not ("x" in owned)``) and the
    ``residual`` clauses the engine evaluates. A fact is a set lookup; the engine's own
    containment test type-checks the whole list at every call (~30 µs). The result is the
    engine's; only a clause that would raise after a false fact is no longer reached.
    """

    __slots__ = ("text", "rule", "guards", "clauses", "required", "forbidden", "residual", "fields")

    def __init__(self, text: str, rule: rule_engine.Rule | None, conjuncts: list):
        self.text, self.rule, self.clauses = text, rule, len(conjuncts)
        required: list[Fact] = []
        forbidden: list[Fact] = []
        residual = []
        for node in conjuncts:
            if (fact := _guard(node)) is not None:
                required.append(fact)
            elif isinstance(node, re_ast.UnaryExpression) and node.type == "not" \
                    and (fact := _guard(node.right)) is not None:
                forbidden.append(fact)
            else:
                residual.append(node)
        self.required, self.forbidden, self.residual = tuple(required), tuple(forbidden), tuple(residual)
        self.guards = tuple(sorted(required, key=lambda fact: _preference(fact[0])))
        self.fields = frozenset(field for field, _ in (*required, *forbidden))

    @property
    def always(self) -> bool:
        return self.rule is None

    def matches(self, context: dict, facts: set[Fact] | None = None) -> bool:
        """Whether it holds for ``context`` (the snapshot's mapping); ``facts``: the snapshot's
        facts for at least :attr:`fields` (worked out here when not given). May raise
        ``rule_engine.EngineError``."""
        if self.rule is None:
            return True
        if facts is None:
            facts = snapshot_facts(context, self.fields)
        for fact in self.required:
            if fact not in facts:
                return False
        for fact in self.forbidden:
            if fact in facts:
                return False
        for node in self.residual:
            if not node.evaluate(context):
                return False
        return True


def snapshot_facts(context: dict, fields) -> set[Fact]:
    """The facts a snapshot holds for ``fields``: each member of a list, a text's value, a true flag."""
    facts: set[Fact] = set()
    for field in fields:
        value = context.get(field)
        if isinstance(value, (list, tuple)):
            facts.update((field, item) for item in value)
        elif value is True:
            facts.add((field, True))
        elif isinstance(value, str):
            facts.add((field, value))
    return facts


def compile_condition(text: str, *, field: str = "", action_id: str = "") -> Condition:
    """Parse and type-check ``text``; an empty text is the condition that always holds."""
    text = text or ""
    if not text.strip():
        return Condition(text, None, [])
    try:
        with _PARSING:
            rule = rule_engine.Rule(text, context=rule_context())
    except re_errors.RuleSyntaxError as error:
        token = error.token
        position = token.lexpos if token is not None else len(text.rstrip())
        what = f"unexpected {token.value!r}" if token is not None else "the condition ends too early"
        raise ConditionError(f"syntax error: {what}", text=text, position=position,
                             field=field, action_id=action_id) from None
    except re_errors.SymbolResolutionError as error:
        hint = f" (did you mean {error.suggestion}?)" if error.suggestion else ""
        raise ConditionError(f"unknown field {error.symbol_name!r}{hint}", text=text,
                             position=_symbol_position(text, error.symbol_name),
                             field=field, action_id=action_id) from None
    except re_errors.AttributeResolutionError as error:
        hint = ('; read a key of the site\'s context as context&["key"]'
                if "MAPPING" in str(error) else "")
        raise ConditionError(f"unknown attribute {error.attribute_name!r}{hint}", text=text,
                             position=_symbol_position(text, error.attribute_name),
                             field=field, action_id=action_id) from None
    except re_errors.EngineError as error:
        raise ConditionError(f"{_describe(error)}", text=text, position=_type_error_position(text),
                             field=field, action_id=action_id) from None
    expression = rule.statement.expression
    mismatch = _mismatched_comparison(expression)
    if mismatch:
        raise ConditionError(mismatch, text=text, position=_type_error_position(text, strict=True),
                             field=field, action_id=action_id)
    if expression.result_type not in (DataType.BOOLEAN, DataType.UNDEFINED):
        raise ConditionError(f"a condition must be true or false; this is a {expression.result_type.name.lower()}",
                             text=text, position=0, field=field, action_id=action_id)
    return Condition(text, rule, list(_conjuncts(expression)))


def _describe(error: re_errors.EngineError) -> str:
    message = getattr(error, "message", "") or str(error)
    if message == "data type mismatch":
        return "wrong type: this operator cannot compare or combine these values"
    if message.startswith("attribute access on a MAPPING"):
        return 'read a key of the site\'s context as context&["key"] (null when the site did not set it)'

    return message


def _symbol_position(text: str, name: str) -> int:
    for token in _tokens(text):
        if token.type == "SYMBOL" and token.value == name:
            return token.lexpos
    return 0


def _tokens(text: str) -> list:
    lexer = rule_engine.parser.Parser()._lexer.clone()
    lexer.input(text)
    try:
        return list(lexer)
    except re_errors.EngineError:
        return []


def _type_error_position(text: str, *, strict: bool = False) -> int:
    """Where a type error is: the operator of the first clause (text between ``and``, ``or``,
    ``not`` and parentheses) that fails alone. The engine reports no position for these."""
    tokens = _tokens(text)
    clauses: list[list] = [[]]
    for token in tokens:
        if token.type in _LOGIC_TOKENS:
            clauses.append([])
        else:
            clauses[-1].append(token)
    for clause in filter(None, clauses):
        start = clause[0].lexpos
        end = clause[-1].lexpos + len(str(clause[-1].value))
        try:
            with _PARSING:
                rule = rule_engine.Rule(text[start:end], context=rule_context())
            if strict and _mismatched_comparison(rule.statement.expression):
                raise ValueError
        except (re_errors.EngineError, ValueError):
            operators = [t for t in clause if t.type not in ("SYMBOL", "STRING", "FLOAT", "TRUE", "FALSE", "NULL")]
            return operators[0].lexpos if operators else start
    return 0


_LOOSE = (DataType.UNDEFINED, DataType.NULL)


def _mismatched_comparison(node) -> str | None:
    """rule-engine lets ``tier == 3`` through (it is just false); a planner meant something else."""
    if isinstance(node, re_ast.ComparisonExpression):
        left, right = node.left.result_type, node.right.result_type
        if left not in _LOOSE and right not in _LOOSE and not _same_kind(left, right):
            return (f"wrong type: comparing a {left.name.lower()} with a {right.name.lower()} "
                    f"is never true")
    for child in ("left", "right", "expression", "condition", "case_true", "case_false", "member", "container"):
        sub = getattr(node, child, None)
        if isinstance(sub, re_ast.ExpressionBase):
            found = _mismatched_comparison(sub)
            if found:
                return found
    return None


def _same_kind(left, right) -> bool:
    return DataType.is_compatible(left, right)


def _conjuncts(node):
    if isinstance(node, re_ast.LogicExpression) and node.type == "and":
        yield from _conjuncts(node.left)
        yield from _conjuncts(node.right)
    else:
        yield node


def _guard(node) -> Fact | None:
    if isinstance(node, re_ast.ContainsExpression):
        if isinstance(node.member, re_ast.StringExpression) and isinstance(node.container, re_ast.SymbolExpression) \
                and FIELD_TYPES.get(node.container.name) == DataType.ARRAY(DataType.STRING):
            return node.container.name, node.member.value
    if isinstance(node, re_ast.ComparisonExpression) and node.type == "eq":
        for symbol, literal in ((node.left, node.right), (node.right, node.left)):
            if isinstance(symbol, re_ast.SymbolExpression) and isinstance(literal, re_ast.StringExpression) \
                    and FIELD_TYPES.get(symbol.name) == DataType.STRING:
                return symbol.name, literal.value
    if isinstance(node, re_ast.SymbolExpression) and FIELD_TYPES.get(node.name) == DataType.BOOLEAN:
        return node.name, True
    return None


def _preference(field: str) -> int:
    try:
        return _GUARD_PREFERENCE.index(field)
    except ValueError:
        return len(_GUARD_PREFERENCE)
