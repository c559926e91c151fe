"""Hypothesis strategies for D-Bus values a misbehaving NetworkManager could send.

Each value is a Variant the simulator puts on the wire as it is: of the expected type but out
of range (`of_type`), of another type (`not_of_type`), or absent (None, in `malformed`). Sizes
are bounded so an example costs milliseconds: a "huge" array or string is up to 64 KiB. NUL
bytes go in byte strings (`ay`); a D-Bus string may not carry one (the bus daemon would drop the
sender), nor a lone surrogate.
"""

from __future__ import annotations

from dbus_next.signature import Variant
from hypothesis import strategies as st
from hypothesis.strategies import SearchStrategy

HUGE = 1 << 16
_TEXT = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=24
)
_PATHS = st.sampled_from(
    ["/", "/org/freedesktop/NetworkManager/Nowhere/1", "/org/freedesktop/NetworkManager"]
)
_UINT32 = st.sampled_from([0, 1, 100, 255, 2**31, 2**32 - 1]) | st.integers(0, 2**32 - 1)


def _huge_text() -> SearchStrategy[str]:
    return st.integers(25, HUGE).map(lambda n: "x" * n)


def _huge_bytes() -> SearchStrategy[bytes]:
    return st.integers(33, HUGE).map(lambda n: b"\x00" * n)


def _entries() -> SearchStrategy[dict[str, Variant]]:
    """An a{sv}: a few keys, each of a simple type."""
    return st.dictionaries(_TEXT, st.deferred(lambda: _simple), max_size=3)


# The value strategy of each type the tests send; containers hold small simple values.
_VALUES: dict[str, SearchStrategy[object]] = {
    "y": st.integers(0, 255),
    "b": st.booleans(),
    "n": st.integers(-(2**15), 2**15 - 1),
    "q": st.integers(0, 2**16 - 1),
    "i": st.integers(-(2**31), 2**31 - 1),
    "u": _UINT32,
    "x": st.integers(-(2**63), 2**63 - 1),
    "t": st.integers(0, 2**64 - 1),
    "d": st.floats(allow_nan=True, allow_infinity=True),
    "s": _TEXT | _huge_text(),
    "o": _PATHS,
    "ay": st.binary(max_size=40) | _huge_bytes(),
    "as": st.lists(_TEXT, max_size=4),
    "ao": st.lists(_PATHS, max_size=4),
    "au": st.lists(_UINT32, max_size=4) | st.integers(0, HUGE).map(lambda n: [7] * n),
    "(uu)": st.tuples(_UINT32, _UINT32).map(list),
    "a{sv}": _entries(),
    "a{ss}": st.dictionaries(_TEXT, _TEXT, max_size=3),
    "aa{sv}": st.lists(_entries(), max_size=3),
    "a{sa{sv}}": st.dictionaries(_TEXT, _entries(), max_size=3),
}
_SIMPLE_TYPES = ["y", "b", "u", "i", "x", "s", "o", "ay", "as", "au"]
_simple: SearchStrategy[Variant] = st.sampled_from(_SIMPLE_TYPES).flatmap(
    lambda signature: _VALUES[signature].map(lambda value: Variant(signature, value))
)
SIGNATURES = sorted(_VALUES)


def of_type(signature: str) -> SearchStrategy[Variant]:
    """A Variant of this type with any value, extremes and huge ones included."""
    return _VALUES[signature].map(lambda value: Variant(signature, value))


def not_of_type(signature: str) -> SearchStrategy[Variant]:
    """A Variant of any other type the tests know."""
    others = [s for s in SIGNATURES if s != signature]
    return st.sampled_from(others).flatmap(of_type)


def malformed(signature: str) -> SearchStrategy[Variant | None]:
    """What a property or reply of this type may come as: absent, any value, or another type."""
    return st.none() | of_type(signature) | not_of_type(signature)
