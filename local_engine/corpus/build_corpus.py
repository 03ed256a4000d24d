"""Build the local text model's training corpus from the Python standard library's docstrings.

Run once, by a maintainer, and commit the output (`corpus.txt.gz` beside this file):

    python -m local_engine.corpus.build_corpus            # uses this interpreter's stdlib
    python -m local_engine.corpus.build_corpus --stdlib /usr/lib/python3.11 --check

The engine never runs this script: it trains on the committed file, so every machine gets the
same model whatever Python it has. The text is the docstrings of the standard library's
modules, classes and functions (PSF License 2.0, see LICENSE.md).

Steps, all deterministic:
1. every `*.py` under the stdlib directory (its test suite included: test docstrings are
   short English sentences too), in sorted path order, skipping site-packages;
2. `ast.parse` each file and take module, class and function docstrings
   (`ast.get_docstring(clean=True)`);
3. clean each docstring: drop doctest blocks (`>>>` / `...` lines and the output right
   after them), drop reST directive lines (`.. xxx::`), strip trailing spaces, collapse
   runs of blank lines, join hard-wrapped lines of one paragraph into one line;
4. keep docstrings with at least 40 characters and at least 6 words, and mostly
   letters; dedupe on the exact cleaned text;
5. if the total exceeds `--max-bytes`, keep documents in the order of the SHA-256 of their
   text until it is reached (an unbiased, machine-independent sample); then sort the kept
   documents by text;
6. write documents separated by a line holding only `<|endoftext|>`, gzip with mtime 0.
"""

from __future__ import annotations

import argparse
import ast
import gzip
import hashlib
import re
import sys
import sysconfig
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUTPUT = HERE / "corpus.txt.gz"
SEPARATOR = "<|endoftext|>"

# Third-party packages installed into this Python are not the standard library.
SKIP_PARTS = {"site-packages", "dist-packages", "__pycache__"}

_DOCTEST = re.compile(r"^\s*(>>>|\.\.\.)(\s|$)")
_DIRECTIVE = re.compile(r"^\s*\.\.\s+[\w:-]+::")


def stdlib_files(root: Path) -> list[Path]:
    files = []
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root)
        if SKIP_PARTS.intersection(rel.parts):
            continue
        files.append(path)
    return files


def docstrings(source: str) -> list[str]:
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return []
    out = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            doc = ast.get_docstring(node, clean=True)
            if doc:
                out.append(doc)
    return out


def clean(doc: str) -> str:
    lines: list[str] = []
    in_doctest = False
    for line in doc.replace("\t", "    ").splitlines():
        if _DOCTEST.match(line):
            in_doctest = True
            continue
        if in_doctest:
            if line.strip():
                continue  # the doctest's expected output
            in_doctest = False
        if _DIRECTIVE.match(line):
            continue
        lines.append(line.rstrip())
    # Paragraphs: join hard-wrapped prose lines; keep indented blocks (lists, code) as they are.
    paragraphs: list[str] = []
    current: list[str] = []
    for line in lines + [""]:
        if not line.strip():
            if current:
                paragraphs.append(_join(current))
                current = []
            continue
        current.append(line)
    text = "\n\n".join(p for p in paragraphs if p.strip())
    return text.strip()


def _join(lines: list[str]) -> str:
    if any(line.startswith(" ") for line in lines) or any(
        re.match(r"^\s*([-*+]|\d+\.)\s", line) for line in lines[1:]
    ):
        return "\n".join(lines)
    return " ".join(line.strip() for line in lines)


def acceptable(text: str) -> bool:
    if SEPARATOR in text or len(text) < 40 or len(text.split()) < 6:
        return False
    letters = sum(ch.isalpha() or ch.isspace() for ch in text)
    return letters / len(text) >= 0.75


def build(root: Path, max_bytes: int) -> tuple[bytes, dict[str, int]]:
    seen: set[str] = set()
    docs: list[str] = []
    files = stdlib_files(root)
    for path in files:
        try:
            source = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue
        for doc in docstrings(source):
            text = clean(doc)
            if acceptable(text) and text not in seen:
                seen.add(text)
                docs.append(text)
    # A stable, machine-independent order: by a hash of the text (an unbiased sample when cut).
    docs.sort(key=lambda t: (hashlib.sha256(t.encode()).hexdigest(), t))
    kept: list[str] = []
    size = 0
    for text in docs:
        n = len(text.encode()) + len(SEPARATOR) + 2
        if size + n > max_bytes:
            continue
        kept.append(text)
        size += n
    kept.sort()
    raw = ("".join(f"{text}\n{SEPARATOR}\n" for text in kept)).encode("utf-8")
    stats = {"files": len(files), "docstrings": len(docs), "kept": len(kept), "bytes": len(raw)}
    return raw, stats


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stdlib", type=Path, default=Path(sysconfig.get_paths()["stdlib"]))
    parser.add_argument("--max-bytes", type=int, default=3_000_000)
    parser.add_argument("--output", type=Path, default=OUTPUT)
    parser.add_argument("--check", action="store_true", help="build in memory and compare with --output")
    args = parser.parse_args(argv)
    raw, stats = build(args.stdlib, args.max_bytes)
    packed = gzip.compress(raw, compresslevel=9, mtime=0)
    print(
        f"stdlib {args.stdlib} (Python {sys.version.split()[0]}): {stats['files']} files, "
        f"{stats['docstrings']} distinct docstrings, kept {stats['kept']}, "
        f"{stats['bytes']:,} bytes raw, {len(packed):,} gzipped, sha256 {hashlib.sha256(raw).hexdigest()[:16]}"
    )
    if args.check:
        same = args.output.exists() and gzip.decompress(args.output.read_bytes()) == raw
        print("identical to", args.output if same else f"DIFFERENT from {args.output}")
        sys.exit(0 if same else 1)
    args.output.write_bytes(packed)
    print("wrote", args.output)


if __name__ == "__main__":
    main()
