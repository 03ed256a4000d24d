"""Build sample_corpus.csv: the first paragraph of the docstrings of some standard-library
functions and classes (Python 3.11), with a title and a category. Deterministic for a given
Python version. Run: python playground/data/build_sample_corpus.py"""

from __future__ import annotations

import csv
import importlib
import inspect
from pathlib import Path

CATEGORIES = {
    "text": ["re", "string", "textwrap", "difflib", "unicodedata"],
    "files": ["os.path", "shutil", "pathlib", "glob", "tempfile", "fnmatch"],
    "data formats": ["json", "csv", "base64", "zlib", "gzip", "binascii"],
    "networking": ["socket", "http.client", "urllib.parse", "smtplib", "ipaddress"],
    "concurrency": ["threading", "queue", "subprocess", "concurrent.futures"],
    "numbers": ["math", "statistics", "random", "decimal", "fractions"],
    "dates and times": ["datetime", "time", "calendar"],
    "data structures": ["collections", "heapq", "bisect", "itertools", "functools"],
}
PER_MODULE = 14
OUT = Path(__file__).with_name("sample_corpus.csv")


def first_paragraph(doc: str) -> str:
    return " ".join(inspect.cleandoc(doc).split("\n\n")[0].split())


def rows() -> list[dict[str, str]]:
    out = []
    for category, modules in CATEGORIES.items():
        for name in modules:
            module = importlib.import_module(name)
            taken = 0
            for attr in sorted(dir(module)):
                obj = getattr(module, attr)
                if attr.startswith("_") or not (inspect.isfunction(obj) or inspect.isclass(obj) or inspect.isbuiltin(obj)):
                    continue
                owner = (getattr(obj, "__module__", None) or "").lstrip("_").split(".")[0]
                if owner != module.__name__.lstrip("_").split(".")[0]:
                    continue  # imported from elsewhere
                text = first_paragraph(obj.__doc__ or "")
                if len(text) < 40 or text.startswith(attr + "("):
                    continue
                out.append({"title": f"{name}.{attr}", "category": category, "text": text})
                taken += 1
                if taken == PER_MODULE:
                    break
    return out


if __name__ == "__main__":
    with OUT.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=["title", "category", "text"])
        writer.writeheader()
        writer.writerows(rows())
