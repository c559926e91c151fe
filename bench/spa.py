"""A stand-in single-page UI, generated at bench time: a large minified-looking bundle that lists
the networks once it has run, served as a UI_DIRECTORY (no other project's code is used)."""

from __future__ import annotations

import hashlib
import random
from pathlib import Path

# The size of a React UI's bundle, as balena's wifi-connect ships one (issue 11: 1.9 MB).
BUNDLE_BYTES = 1_900_000

# Identifier parts, property names and string values of the filler code.
_PARTS = (
    "use", "set", "get", "on", "to", "is", "has", "make", "next", "prev", "node", "fiber", "lane",
    "hook", "ref", "memo", "state", "props", "key", "type", "child", "sibling", "return", "queue",
    "flags", "mode", "index", "pending", "update", "effect", "context", "value", "style", "class",
    "event", "target", "listener", "root", "container", "element", "text", "list", "item", "form",
    "input", "button", "select", "option", "label", "theme", "color", "space", "size", "width",
)  # fmt: skip
# Once run, the bundle lists /networks as radio buttons: the moment a phone can pick one.
_APP = """
;(function(){"use strict";var root=document.getElementById("root");
fetch("/networks").then(function(r){return r.json()}).then(function(nets){
var list=document.createElement("ul");nets.forEach(function(net){
var li=document.createElement("li"),label=document.createElement("label"),
radio=document.createElement("input");radio.type="radio";radio.name="ssid";radio.value=net.ssid;
label.append(radio," ",net.ssid);li.append(label);list.append(li)});
root.replaceChildren(list)})})();
"""


def _name(rng: random.Random) -> str:
    return rng.choice(_PARTS) + rng.choice(_PARTS).title()


def _statement(rng: random.Random) -> str:
    """One statement in a minifier's style: one-letter locals, short literals."""
    a, b = rng.sample("abcdefnrtu", 2)
    choices = (
        f'{a}.{_name(rng)}="{rng.choice(_PARTS)}-{rng.randrange(16**5):x}"',
        f"if({a}.{rng.choice(_PARTS)}&{1 << rng.randrange(12)})return {b}",
        f"{a}={b}?{b}.{_name(rng)}:null",
        f"for(var i=0;i<{a}.length;i++){b}+={a}[i]*{rng.randrange(97)}",
        f"{a}=Object.assign({{}},{b},{{{rng.choice(_PARTS)}:{rng.random():.4f}}})",
        f"return void 0!=={a}&&{a}.{rng.choice(_PARTS)}({b},{rng.randrange(1000)})",
    )
    return rng.choice(choices)


def bundle(size: int, seed: int = 1) -> bytes:
    """At least `size` bytes of valid JavaScript: a module table of filler, then the app."""
    rng = random.Random(seed)
    modules: list[str] = []
    total = 0
    while total < size:
        statements = ";".join(_statement(rng) for _ in range(rng.randint(2, 7)))
        module = f"{len(modules)}:function(e,t,n){{var a,b,c,d,f,r,u;{statements}}}"
        modules.append(module)
        total += len(module) + 1
    # Defined, never called: a bundle's code a browser must still fetch and parse.
    return f"var __modules={{{','.join(modules)}}};{_APP}".encode()


def hashed_name(content: bytes, stem: str, suffix: str) -> str:
    """`stem`.HASH`suffix` as bundlers name files: a digest slice that mixes letters and digits."""
    digest = hashlib.sha256(content).hexdigest()
    for start in range(len(digest) - 8):
        part = digest[start : start + 8]
        if any(c.isdigit() for c in part) and any(c.isalpha() for c in part):
            return f"{stem}.{part}{suffix}"
    raise ValueError("a digest of only letters or only digits")  # never, for SHA-256 in practice


def write_ui(directory: Path, size: int = BUNDLE_BYTES) -> str:
    """A prebuilt UI in `directory` with a `size`-byte bundle; the bundle's URL path."""
    content = bundle(size)
    name = hashed_name(content, "main", ".js")
    (directory / "static" / "js").mkdir(parents=True, exist_ok=True)
    (directory / "static" / "js" / name).write_bytes(content)
    (directory / "index.html").write_text(
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1"><title>WiFi</title>'
        f'<script defer src="/static/js/{name}"></script></head>'
        '<body><div id="root"></div></body></html>',
        encoding="utf-8",
    )
    return f"/static/js/{name}"
