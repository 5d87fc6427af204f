"""Where each key of a TOML file is: key path -> line number.

``tomllib`` returns plain dicts without positions, but a learner needs the line of a
mistake. This scanner reads the text once and records the line of every table header
and every ``key =`` it finds, using the same key paths as the scenario loader
(``layers[2].size``: arrays of tables are counted from 1). It only has to be right for
files that tomllib already parsed, so it skips what it need not understand.
"""

from __future__ import annotations

import re

_BARE_KEY = re.compile(r"""\s*("(?:[^"\\]|\\.)*"|'[^']*'|[A-Za-z0-9_-]+)\s*""")

# Escapes of a basic string, as tomllib reads them (\e and \xHH are TOML 1.1), so that a
# quoted key is found under the name the loader sees.
_ESCAPE = re.compile(r"\\(u[0-9A-Fa-f]{4}|U[0-9A-Fa-f]{8}|x[0-9A-Fa-f]{2}|.)")
_ESCAPES = {"b": "\b", "t": "\t", "n": "\n", "f": "\f", "r": "\r", "e": "\x1b", '"': '"', "\\": "\\"}


def _unescape(m: re.Match) -> str:
    code = m.group(1)
    return _ESCAPES.get(code, code) if len(code) == 1 else chr(int(code[1:], 16))


def _split_key(text: str) -> tuple[list[str], int]:
    """Parse a dotted key at the start of text; return its parts and where it ends."""
    parts, pos = [], 0
    while True:
        m = _BARE_KEY.match(text, pos)
        if not m:
            return parts, pos
        part = m.group(1)
        if part[0] == '"':
            part = _ESCAPE.sub(_unescape, part[1:-1])
        elif part[0] == "'":
            part = part[1:-1]
        parts.append(part)
        pos = m.end()
        if pos < len(text) and text[pos] == ".":
            pos += 1
            continue
        return parts, pos


def key_lines(text: str) -> dict[str, int]:
    lines: dict[str, int] = {}
    counts: dict[str, int] = {}
    prefix = ""
    depth = 0  # open [ and { inside a value that spans lines
    multiline: str | None = None  # the closing quotes of an open multi-line string
    # Only \n ends a TOML line; str.splitlines() would also break at U+2028, U+0085, ...
    for number, line in enumerate(text.split("\n"), start=1):
        i = 0
        if multiline is None and depth == 0:
            stripped = line.lstrip()
            if stripped.startswith("[["):
                parts, _ = _split_key(stripped[2:])
                name = ".".join(parts)
                counts[name] = counts.get(name, 0) + 1
                prefix = f"{name}[{counts[name]}]"
                lines.setdefault(prefix, number)
                continue
            if stripped.startswith("["):
                parts, _ = _split_key(stripped[1:])
                prefix = ".".join(parts)
                lines.setdefault(prefix, number)
                continue
            parts, end = _split_key(line)
            if parts and line[end : end + 1] == "=":
                key = ".".join(parts)
                lines.setdefault(f"{prefix}.{key}" if prefix else key, number)
                i = end + 1
            else:
                continue
        # Scan the value part for strings and brackets that carry over to the next line.
        while i < len(line):
            if multiline == "'''":  # a literal string: no escapes
                end = line.find(multiline, i)
                if end < 0:
                    break
                i = end + 3
                multiline = None
                continue
            if multiline is not None:  # a basic string, where a backslash escapes a quote
                if line[i] == "\\":
                    i += 2
                elif line.startswith('"""', i):
                    i += 3
                    multiline = None
                else:
                    i += 1
                continue
            ch = line[i]
            if ch == "#":
                break
            if line.startswith('"""', i) or line.startswith("'''", i):
                multiline = line[i : i + 3]
                i += 3
                continue
            if ch == '"':
                i += 1
                while i < len(line) and line[i] != '"':
                    i += 2 if line[i] == "\\" else 1
            elif ch == "'":
                end = line.find("'", i + 1)
                i = len(line) if end < 0 else end
            elif ch in "[{":
                depth += 1
            elif ch in "]}":
                depth = max(0, depth - 1)
            i += 1
    return lines


def line_of(lines: dict[str, int], where: str) -> int | None:
    """The line of a key path, or of the nearest enclosing key or table that has one."""
    while where:
        if where in lines:
            return lines[where]
        cut = max(where.rfind("."), where.rfind("["))
        if cut <= 0:
            return None
        where = where[:cut]
    return None
