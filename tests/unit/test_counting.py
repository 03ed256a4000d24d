"""Token counts, context gauge and cost, as the API and the prices file give them."""

from __future__ import annotations

import pytest

from playground.catalog import model_info
from playground.counting import context_gauge, count_chat, count_prompt, format_cost, local_chat_prompt

# The example of OpenAI's cookbook "How to count tokens with tiktoken", whose counts the API
# confirmed there: 129 prompt tokens for gpt-3.5-turbo and gpt-4, 124 for gpt-4o and gpt-4o-mini.
COOKBOOK_MESSAGES = [
    {"role": "system", "content": "You are a helpful, pattern-following assistant that translates corporate jargon into plain English."},
    {"role": "system", "name": "example_user", "content": "New synergies will help drive top-line growth."},
    {"role": "system", "name": "example_assistant", "content": "Things working well together will increase revenue."},
    {"role": "system", "name": "example_user", "content": "Let's circle back when we have more bandwidth to touch base on opportunities for increased leverage."},
    {"role": "system", "name": "example_assistant", "content": "Let's talk later when we're less busy about how to do better."},
    {"role": "user", "content": "This late pivot means we don't have time to boil the ocean for the client deliverable."},
]


@pytest.mark.parametrize(("model", "expected"), [("gpt-3.5-turbo", 129), ("gpt-4", 129), ("gpt-4o", 124), ("gpt-4o-mini", 124)])
def test_chat_count_matches_the_cookbook(model: str, expected: int) -> None:
    assert count_chat(COOKBOOK_MESSAGES, model) == expected


def test_chat_overhead_per_message_and_name() -> None:
    one = [{"role": "user", "content": "hello"}]
    assert count_chat(one, "gpt-4o") == 3 + 1 + 1 + 3  # message + "user" + "hello" + priming
    named = [{"role": "user", "content": "hello", "name": "bob"}]
    assert count_chat(named, "gpt-4o") == count_chat(one, "gpt-4o") + 1 + 1  # "bob" + name overhead


def test_local_template_text() -> None:
    messages = [{"role": "developer", "content": "Be brief."}, {"role": "user", "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]}]
    assert local_chat_prompt(messages) == "System.\n\nBe brief.\n\nUser.\n\na\nb\n\nAssistant.\n\n"


def test_prompt_count_uses_the_model_encoding() -> None:
    text = "Tokenization differs between encodings: 🎉 한국어"
    assert count_prompt(text, "gpt-4o") != count_prompt(text, "gpt-3.5-turbo-instruct")
    assert count_prompt("a<|endoftext|>b", "local-text") == 3


def test_context_gauge() -> None:
    gpt4 = model_info("gpt-4")  # 8,192 tokens
    fits = context_gauge(1000, 1000, gpt4)
    assert fits.fits and fits.fraction == pytest.approx(2000 / 8192) and "8,192" in fits.text
    over = context_gauge(8000, 500, gpt4)
    assert not over.fits and over.fraction == 1.0 and "308 over" in over.text
    unknown = context_gauge(10, 5, model_info("some-unknown-model"))
    assert unknown.context_window is None and "unknown" in unknown.text


def test_cost_from_the_prices_file() -> None:
    info = model_info("gpt-4o")
    assert info.cost(1_000_000, 1_000_000) == pytest.approx(info.input_price + info.output_price)
    assert model_info("some-unknown-model").cost(10, 10) is None
    assert format_cost(None) == "—"


def test_the_local_models_cost_nothing_and_say_so() -> None:
    dollars = model_info("local-text").cost(1000, 1000)
    assert dollars == 0 and format_cost(dollars) == "Free"
