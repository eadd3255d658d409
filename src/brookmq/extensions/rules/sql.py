"""Rule SQL, parsed once (a lark LALR grammar, ``grammar.lark``) and compiled into Python
closures: running a rule on a message calls them and interprets nothing.

``compile_sql(text)`` gives a :class:`Statement`: its ``sources`` (the topic filters and event
topics of ``FROM``) and ``run(columns)``, which answers the selected map (``SELECT``), the
list of maps (``FOREACH``), or ``None`` when ``WHERE`` did not hold. What happens follows
EMQX's runtime: each field sees the fields selected before it; ``WHERE`` sees the columns with
the selected fields on top (an alias can be tested); ``payload.x`` decodes the payload from
JSON once per message; an index is 1-based (``payload.list[1]``), negative from the end.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from importlib.resources import files
from typing import Any

from lark import Lark, Token, Tree, UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from brookmq.extensions.rules.functions import CONTEXT_FUNCTIONS, FUNCTIONS
from brookmq.extensions.rules.values import SqlRuntimeError, arith, compare, decode_json, same

_PARSER = Lark(
    files("brookmq.extensions.rules").joinpath("grammar.lark").read_text(),
    parser="lalr",
    propagate_positions=True,
    cache=False,
)


class SqlSyntaxError(ValueError):
    """The SQL does not parse or names what does not exist; ``line`` and ``column`` are 1-based."""

    def __init__(self, message: str, line: int = 0, column: int = 0) -> None:
        where = f" at line {line}, column {column}" if line else ""
        super().__init__(f"{message}{where}")
        self.line = line
        self.column = column


class Env:
    """What one evaluation sees: the fields selected so far (looked up first), the input's
    columns, and the input's payload decoded from JSON once."""

    __slots__ = ("columns", "decoded", "selected")

    def __init__(self, columns: dict[str, Any], selected: dict[str, Any] | None = None) -> None:
        self.columns = columns
        self.selected = selected
        self.decoded: Any = _NOT_DECODED

    def top(self, name: str) -> Any:
        selected = self.selected
        if selected is not None and name in selected:
            return selected[name]
        return self.columns.get(name)

    def payload(self) -> Any:
        selected = self.selected
        raw = self.columns.get("payload")
        if selected is not None and "payload" in selected and selected["payload"] is not raw:
            return decode_json(selected["payload"])
        if self.decoded is _NOT_DECODED:
            self.decoded = decode_json(raw)
        return self.decoded


_NOT_DECODED: Any = object()
Expr = Callable[[Env], Any]


@dataclass(frozen=True, slots=True)
class Statement:
    sql: str
    sources: tuple[str, ...]
    foreach: bool
    run: Callable[[dict[str, Any]], Any]


def compile_sql(sql: str) -> Statement:
    try:
        tree = _PARSER.parse(sql)
    except UnexpectedInput as exc:
        raise _syntax_error(sql, exc) from None
    statement = tree.children[0]
    assert isinstance(statement, Tree)
    return _Compiler(sql).statement(statement)


def _syntax_error(sql: str, exc: UnexpectedInput) -> SqlSyntaxError:
    lines = sql.split("\n")
    end = (len(lines), len(lines[-1]) + 1)  # just past the last character
    if isinstance(exc, UnexpectedEOF):
        return SqlSyntaxError("unexpected the end", *end)
    if isinstance(exc, UnexpectedToken):
        expected = ", ".join(sorted(_describe(name) for name in exc.accepts or exc.expected))
        if exc.token.type == "$END":
            return SqlSyntaxError(f"unexpected the end; expected {expected}", *end)
        return SqlSyntaxError(f"unexpected {str(exc.token)!r}; expected {expected}", exc.line, exc.column)
    assert isinstance(exc, UnexpectedCharacters)
    return SqlSyntaxError(f"unexpected character {sql[exc.pos_in_stream or 0]!r}", exc.line, exc.column)


_TERMINALS = {
    "NAME": "a name",
    "STRING": "a string",
    "NUMBER": "a number",
    "$END": "the end",
    "COMPARE": "a comparison",
    "NULL": "'null'",
    "ADD": "'+', '-'",
    "MUL": "'*', '/', 'div', 'mod'",
}


def _describe(terminal: str) -> str:
    if terminal in _TERMINALS:
        return _TERMINALS[terminal]
    pattern = _PARSER.get_terminal(terminal).pattern
    return repr(pattern.value) if pattern.type == "str" else terminal


class _Compiler:
    def __init__(self, sql: str) -> None:
        self.sql = sql

    # ------------------------------------------------------------ statements

    def statement(self, node: Tree) -> Statement:
        if node.data == "select":
            _, fields, _, sources, _, where = node.children
            return Statement(
                self.sql,
                self.sources(sources),
                False,
                self.select(self.fields(fields), self.condition(where)),
            )
        _, each, _, do, _, incase, _, sources, _, where = node.children
        return Statement(
            self.sql,
            self.sources(sources),
            True,
            self.foreach(
                self.collection(each),
                self.fields(do) if do is not None else None,
                self.condition(incase),
                self.condition(where),
            ),
        )

    @staticmethod
    def sources(node: Tree) -> tuple[str, ...]:
        return tuple(str(token)[1:-1] for token in node.children)

    def condition(self, node: Tree | Token | None) -> Expr | None:
        return None if node is None else self.expr(node)

    @staticmethod
    def select(fields: list[Callable[[Env], None]], where: Expr | None) -> Callable[[dict[str, Any]], Any]:
        def run(columns: dict[str, Any]) -> dict[str, Any] | None:
            env = Env(columns, {})
            for put in fields:
                put(env)
            if where is not None and where(env) is not True:
                return None
            return env.selected

        return run

    @staticmethod
    def foreach(
        collection: tuple[tuple[str, ...], str, Expr],
        do: list[Callable[[Env], None]] | None,
        incase: Expr | None,
        where: Expr | None,
    ) -> Callable[[dict[str, Any]], Any]:
        keys, item_name, each = collection

        def run(columns: dict[str, Any]) -> list[dict[str, Any]] | None:
            env = Env(columns, {})
            value = each(env)
            assert env.selected is not None
            _put(env.selected, keys, value)
            if where is not None and where(env) is not True:
                return None
            merged = {**columns, **env.selected}
            out = []
            for item in value if isinstance(value, list) else ():
                item_env = Env(merged, {item_name: item})
                item_env.decoded = env.decoded
                if incase is not None and incase(item_env) is not True:
                    continue
                if do is None:
                    out.append({**merged, item_name: item})
                    continue
                row = Env({**merged, item_name: item}, {})
                row.decoded = env.decoded
                for put in do:
                    put(row)
                assert row.selected is not None
                out.append(row.selected)
            return out

        return run

    # ------------------------------------------------------------ fields

    def fields(self, node: Tree) -> list[Callable[[Env], None]]:
        return [self.field(child) for child in node.children]

    def field(self, node: Tree) -> Callable[[Env], None]:
        if node.data == "star":

            def star(env: Env) -> None:
                assert env.selected is not None
                env.selected.update(env.columns)

            return star
        keys, expr = self.column(node)

        def put(env: Env) -> None:
            assert env.selected is not None
            _put(env.selected, keys, expr(env))

        return put

    def column(self, node: Tree) -> tuple[tuple[str, ...], Expr]:
        """Where a field lands in the output (its alias, its own path, or its text) and how
        it is computed."""
        value, _, alias = node.children
        expr = self.expr(value)
        if alias is not None:
            return self.alias(alias), expr
        if isinstance(value, Tree) and value.data == "path" and all(_is_key(s) for s in value.children[1:]):
            return (str(value.children[0]), *(_key_text(s) for s in value.children[1:])), expr
        return (self.text_of(value),), expr

    def collection(self, node: Tree) -> tuple[tuple[str, ...], str, Expr]:
        """FOREACH's array: where it is selected, the name of its items (``item`` unless
        aliased), how it is computed."""
        keys, expr = self.column(node)
        alias = node.children[2]
        return keys, (keys[-1] if alias is not None else "item"), expr

    def alias(self, node: Tree) -> tuple[str, ...]:
        head, *segments = node.children
        for segment in segments:
            if not _is_key(segment):
                raise self.error("an alias cannot have an index", segment)
        return (str(head), *(_key_text(s) for s in segments))

    def text_of(self, node: Tree | Token) -> str:
        meta = node if isinstance(node, Token) else node.meta
        return self.sql[meta.start_pos : meta.end_pos]

    def error(self, message: str, node: Tree | Token) -> SqlSyntaxError:
        meta = node if isinstance(node, Token) else node.meta
        return SqlSyntaxError(message, meta.line or 0, meta.column or 0)

    # ------------------------------------------------------------ expressions

    def expr(self, node: Tree | Token) -> Expr:
        if isinstance(node, Token):
            raise self.error(f"unexpected {node!s}", node)
        compile_node = getattr(self, f"x_{node.data}", None)
        if compile_node is None:
            raise self.error(f"unsupported expression {node.data}", node)
        return compile_node(node)

    @staticmethod
    def _const(value: Any) -> Expr:
        return lambda env: value

    def x_number(self, node: Tree) -> Expr:
        raw = str(node.children[0])
        if raw[:2].lower() == "0x":
            return self._const(int(raw, 16))
        return self._const(float(raw) if any(c in raw for c in ".eE") else int(raw))

    def x_string(self, node: Tree) -> Expr:
        return self._const(str(node.children[0])[1:-1])

    def x_true(self, node: Tree) -> Expr:
        return self._const(True)

    def x_false(self, node: Tree) -> Expr:
        return self._const(False)

    def x_null(self, node: Tree) -> Expr:
        return self._const(None)

    def x_array(self, node: Tree) -> Expr:
        items = [self.expr(child) for child in node.children if child is not None]
        return lambda env: [item(env) for item in items]

    def x_negate(self, node: Tree) -> Expr:
        inner = self.expr(node.children[0])
        return lambda env: arith("-", 0, inner(env))

    def x_arith(self, node: Tree) -> Expr:
        left, op_token, right = node.children
        op = str(op_token).lower()
        lhs, rhs = self.expr(left), self.expr(right)
        return lambda env: arith(op, lhs(env), rhs(env))

    def x_compare(self, node: Tree) -> Expr:
        left, op_token, right = node.children
        op = str(op_token)
        lhs, rhs = self.expr(left), self.expr(right)
        return lambda env: compare(op, lhs(env), rhs(env))

    def x_and_(self, node: Tree) -> Expr:
        lhs, rhs = self.expr(node.children[0]), self.expr(node.children[2])
        return lambda env: lhs(env) is True and rhs(env) is True

    def x_or_(self, node: Tree) -> Expr:
        lhs, rhs = self.expr(node.children[0]), self.expr(node.children[2])
        return lambda env: lhs(env) is True or rhs(env) is True

    def x_not_(self, node: Tree) -> Expr:
        inner = self.expr(node.children[1])

        def negated(env: Env) -> bool:
            value = inner(env)
            return value is False  # NOT of something that is not a boolean is false, as in EMQX

        return negated

    def x_in_(self, node: Tree) -> Expr:
        subject, *options = (self.expr(child) for child in node.children if not isinstance(child, Token))
        return lambda env: _member(subject(env), [option(env) for option in options])

    def x_not_in(self, node: Tree) -> Expr:
        contained = self.x_in_(node)
        return lambda env: not contained(env)

    def _branches(self, node: Tree) -> tuple[list[tuple[Expr, Expr]], Expr]:
        trees = [child for child in node.children if isinstance(child, Tree)]
        whens = [(self.expr(w.children[1]), self.expr(w.children[3])) for w in trees if w.data == "when"]
        otherwise = [self.expr(o.children[1]) for o in trees if o.data == "otherwise"]
        return whens, otherwise[0] if otherwise else self._const(None)

    def x_case(self, node: Tree) -> Expr:
        """``CASE WHEN cond THEN value ... [ELSE value] END``: undefined when none holds."""
        branches, otherwise = self._branches(node)

        def case(env: Env) -> Any:
            for test, then in branches:
                if test(env) is True:
                    return then(env)
            return otherwise(env)

        return case

    def x_switch(self, node: Tree) -> Expr:
        """``CASE subject WHEN value THEN value ... END``."""
        subject = self.expr(node.children[1])
        branches, otherwise = self._branches(Tree("branches", node.children[2:]))

        def switch(env: Env) -> Any:
            value = subject(env)
            for test, then in branches:
                if same(value, test(env)):
                    return then(env)
            return otherwise(env)

        return switch

    def x_call(self, node: Tree) -> Expr:
        name_token, *arg_nodes = node.children
        name = str(name_token).lower()
        args = [self.expr(child) for child in arg_nodes if child is not None]
        if name in CONTEXT_FUNCTIONS:
            fn = CONTEXT_FUNCTIONS[name]
            return lambda env: _call(name, fn, [env.columns, *(arg(env) for arg in args)])
        if name not in FUNCTIONS:
            raise self.error(f"unknown function {name}", name_token)
        fn = FUNCTIONS[name]
        return lambda env: _call(name, fn, [arg(env) for arg in args])

    def x_path(self, node: Tree) -> Expr:
        head = str(node.children[0])
        steps = [self.segment(s) for s in node.children[1:]]
        if not steps:
            return lambda env: env.top(head)
        if head == "payload":

            def into_payload(env: Env) -> Any:
                value = env.payload()
                for step in steps:
                    value = step(env, value)
                return value

            return into_payload

        def into(env: Env) -> Any:
            value = env.top(head)
            for step in steps:
                value = step(env, value)
            return value

        return into

    def segment(self, node: Tree) -> Callable[[Env, Any], Any]:
        if _is_key(node):
            key = _key_text(node)
            return lambda env, value: _get(value, key)
        index = self.expr(node.children[0])
        return lambda env, value: _get(value, index(env))


def _is_key(segment: Tree) -> bool:
    return segment.data == "key"


def _key_text(segment: Tree) -> str:
    token = str(segment.children[0])
    return token[1:-1] if token[:1] in ("'", '"') else token


def _get(value: Any, key: Any) -> Any:
    """One step into a map (a key) or an array (a 1-based index, negative from the end); a
    string on the way is read as JSON; anything missing is undefined."""
    if isinstance(value, str | bytes):
        try:
            value = decode_json(value)
        except SqlRuntimeError:
            return None
    if isinstance(value, dict):
        return value.get(key) if isinstance(key, str) else None
    if isinstance(value, list) and isinstance(key, int) and not isinstance(key, bool):
        if 0 < key <= len(value):
            return value[key - 1]
        if -len(value) <= key < 0:
            return value[key]
    return None


def _put(target: dict[str, Any], keys: tuple[str, ...], value: Any) -> None:
    for key in keys[:-1]:
        inner = target.get(key)
        if isinstance(inner, str | bytes):
            try:
                inner = decode_json(inner)
            except SqlRuntimeError:
                inner = None
        inner = dict(inner) if isinstance(inner, dict) else {}
        target[key] = inner
        target = inner
    target[keys[-1]] = value


def _member(value: Any, options: list[Any]) -> bool:
    return any(same(value, option) for option in options)


def _call(name: str, fn: Callable[..., Any], args: list[Any]) -> Any:
    try:
        return fn(*args)
    except SqlRuntimeError:
        raise
    except (TypeError, ValueError, ArithmeticError, KeyError, IndexError, OverflowError) as exc:
        raise SqlRuntimeError(f"{name}: bad argument ({exc})") from None
