"""The built-in functions of rule SQL, by family, under EMQX 5.8's names.

``FUNCTIONS`` take the evaluated arguments; ``CONTEXT_FUNCTIONS`` (``topic()``, ``clientid()``,
``payload('a.b')``, ...) take the input's columns first. A function raises
:class:`~brookmq.extensions.rules.values.SqlRuntimeError` (or a ``TypeError`` /
``ValueError`` the caller turns into one) on a bad argument: the rule fails for that input.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from brookmq.extensions.rules.functions import codec, collections, conversion, dates, maths, misc, strings

FUNCTIONS: dict[str, Callable[..., Any]] = {
    **maths.FUNCTIONS,
    **conversion.FUNCTIONS,
    **strings.FUNCTIONS,
    **collections.FUNCTIONS,
    **codec.FUNCTIONS,
    **dates.FUNCTIONS,
    **misc.FUNCTIONS,
}
CONTEXT_FUNCTIONS: dict[str, Callable[..., Any]] = misc.CONTEXT_FUNCTIONS
