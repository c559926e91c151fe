"""A large single-page UI bundle, generated the same way every time, for the static-file tests."""

from __future__ import annotations

import random
from functools import cache

_WORDS = (
    "state",
    "props",
    "render",
    "effect",
    "memo",
    "ref",
    "context",
    "dispatch",
    "action",
    "reducer",
    "children",
    "key",
    "value",
    "network",
    "ssid",
    "passphrase",
    "strength",
    "security",
    "connect",
    "status",
    "scan",
    "list",
    "item",
    "button",
    "input",
    "form",
    "error",
    "loading",
    "theme",
    "style",
    "class",
    "node",
    "element",
    "fiber",
    "update",
    "queue",
    "lane",
    "priority",
    "hook",
    "event",
)


@cache
def minified_bundle(size: int, seed: int = 1) -> bytes:
    """About `size` bytes of minified-looking JavaScript: short names, literals, numbers."""
    rng = random.Random(seed)
    chunks: list[str] = []
    total = 0
    index = 0
    while total < size:
        name = rng.choice(_WORDS) + rng.choice(_WORDS).title()
        args = ",".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(1, 4)))
        body = ";".join(
            rng.choice(
                (
                    f'{rng.choice("abcdenrt")}.{rng.choice(_WORDS)}="{rng.choice(_WORDS)}-{rng.randrange(10**6):x}"',
                    f"if({rng.choice('abcde')}>{rng.randrange(1000)})return {rng.randrange(10**9)}",
                    f"{rng.choice('xyz')}=Object.assign({{}},{rng.choice('abcde')},{{{rng.choice(_WORDS)}:{rng.random():.6f}}})",
                    f"for(var i=0;i<{rng.randrange(100)};i++)e.push(i*{rng.randrange(97)})",
                )
            )
            for _ in range(rng.randint(2, 6))
        )
        chunk = f"function {name}{index}({args}){{{body}}}"
        chunks.append(chunk)
        total += len(chunk)
        index += 1
    return "".join(chunks).encode()[:size]
