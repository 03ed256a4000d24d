"""Benchmark: does local-text's chat stay on the subject of the question?

    .venv/bin/python -m bench.bench_chat_topic

Starts the engine and asks chat completions (temperature 1, seed = question number,
max_tokens 60) "What does <function> do?" for 20 standard-library functions. An answer is
on subject when it uses a content word (4+ letters, not a stop word, not in the question) of
that function's own docstring (`inspect.getdoc` in this process); on_subject2 asks for 2
distinct ones. Baseline, named `other_doc`: the same shares against the docstring of another
function of the list (the next one): how much of the score is words any answer would use.
Ends with: BENCH chat_topic on_subject=... on_subject2=... words_per_answer=... other_doc=... other_doc2=...
"""

from __future__ import annotations

import inspect
import json
import math
import os
import random
import re
import shutil
import tempfile
import time
from pathlib import Path

import openai

from tests.enginerunner import running_engine

FUNCTIONS = {
    "len": len, "sorted": sorted, "os.path.join": os.path.join, "json.dumps": json.dumps, "math.sqrt": math.sqrt,
    "str.split": str.split, "list.append": list.append, "dict.get": dict.get, "zip": zip, "enumerate": enumerate,
    "re.sub": re.sub, "abs": abs, "max": max, "isinstance": isinstance, "round": round, "time.sleep": time.sleep,
    "random.choice": random.choice, "os.listdir": os.listdir, "shutil.copy": shutil.copy, "str.strip": str.strip,
}
STOP = set("""this that with from have will your what when which there their them then than into also been were
does return returns used uses using only other more most such each some same very just like should would could
must they these those about after before over under while where here being given none true false""".split())
_WORD = re.compile(r"[a-z]{4,}")


def content_words(text: str) -> set[str]:
    return {w for w in _WORD.findall(text.lower()) if w not in STOP}


def main() -> None:
    names = list(FUNCTIONS)
    hits = hits2 = other_hits = other_hits2 = words = 0
    with tempfile.TemporaryDirectory() as tmp, running_engine(data_dir=Path(tmp), timeout=600) as url:
        client = openai.OpenAI(base_url=url, api_key="unused", max_retries=0)
        for i, name in enumerate(names):
            question = f"What does {name} do?"
            r = client.chat.completions.create(model="local-text", messages=[{"role": "user", "content": question}],
                                               temperature=1, seed=i, max_tokens=60)
            answer = content_words(r.choices[0].message.content or "") - content_words(question)
            own = answer & content_words(inspect.getdoc(FUNCTIONS[name]) or "")
            other = answer & content_words(inspect.getdoc(FUNCTIONS[names[(i + 1) % len(names)]]) or "")
            hits, hits2 = hits + (len(own) >= 1), hits2 + (len(own) >= 2)
            other_hits, other_hits2 = other_hits + (len(other) >= 1), other_hits2 + (len(other) >= 2)
            words += len(own)
            if i < 3:
                print(f"{question} -> {r.choices[0].message.content!r}")
    n = len(names)
    print(f"BENCH chat_topic on_subject={hits / n:.2f} on_subject2={hits2 / n:.2f} words_per_answer={words / n:.2f} "
          f"other_doc={other_hits / n:.2f} other_doc2={other_hits2 / n:.2f}")


if __name__ == "__main__":
    main()
