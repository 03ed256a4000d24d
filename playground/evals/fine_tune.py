"""The eval the Fine-tuning page opens: a fine-tuned model against its base, on the job's
validation file, graded by the label its first token names (OpenAI's classification advice:
one-token labels, temperature 0)."""

from __future__ import annotations

from playground.evals.config import EvalConfig
from playground.evals.dataset import Dataset, DatasetError, Template, json_object_lines
from playground.evals.graders import Grader
from playground.evals.runner import Eval
from playground.providers import Connection

LABEL_PARAMS = {"temperature": 0.0, "max_tokens": 2}


def validation_dataset(content: bytes | str, name: str = "validation") -> tuple[Dataset, Template]:
    """A fine-tuning file (prompt/completion lines, or chat lines whose last message is the
    assistant's answer) as a dataset and the template that replays it."""
    text = content.decode("utf-8-sig") if isinstance(content, bytes) else content
    rows, chat = [], None
    for number, data in json_object_lines(text):
        if "messages" in data:
            messages = [m for m in data["messages"] if isinstance(m, dict)]
            if not messages or messages[-1].get("role") != "assistant":
                raise DatasetError(f"line {number}: the last message must be the assistant's answer.")
            system = next((str(m.get("content") or "") for m in messages if m.get("role") == "system"), "")
            user = "\n\n".join(str(m.get("content") or "") for m in messages[:-1] if m.get("role") == "user")
            rows.append({"system": system, "user": user, "answer": str(messages[-1].get("content") or "")})
            chat = True if chat is None else chat
        elif "prompt" in data and "completion" in data:
            rows.append({"prompt": str(data["prompt"]), "answer": str(data["completion"])})
            chat = False if chat is None else chat
        else:
            raise DatasetError(f"line {number}: neither messages nor prompt and completion.")
        if chat != ("messages" in data):
            raise DatasetError(f"line {number}: mixes chat lines with prompt/completion lines.")
    if not rows:
        raise DatasetError("the validation file has no examples.")
    if chat:
        return Dataset(["system", "user", "answer"], rows, name), Template("chat", system="{{system}}", user="{{user}}", expected="answer")
    return Dataset(["prompt", "answer"], rows, name), Template("completions", prompt="{{prompt}}", expected="answer")


def classification_eval(validation: bytes | str, fine_tuned_model: str, base_model: str, connection: Connection,
                        *, name: str | None = None) -> Eval:
    """The fine-tuned model and its base, side by side on the validation file."""
    dataset, template = validation_dataset(validation)
    labels = sorted({row["answer"].strip() for row in dataset.rows})
    configs = [EvalConfig(fine_tuned_model, connection, dict(LABEL_PARAMS), "fine-tuned"),
               EvalConfig(base_model, connection, dict(LABEL_PARAMS), "base")]
    return Eval(dataset, template, configs, [Grader("label", labels=labels)], 1,
                name or f"{fine_tuned_model} vs {base_model}")
