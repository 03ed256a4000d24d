"""The app's local token counts equal the usage the engine reports over HTTP."""

from __future__ import annotations

import openai
import pytest

from playground.counting import count_chat, count_prompt

CONVERSATIONS = [
    [{"role": "user", "content": "hi."}],
    [
        {"role": "system", "content": "Answer in one line."},
        {"role": "user", "content": "What does str.split do with 🎉 and 한국어?", "name": "ana"},
        {"role": "assistant", "content": [{"type": "text", "text": "It splits"}, {"type": "text", "text": "on whitespace."}]},
        {"role": "developer", "content": "<|endoftext|> stays text here"},
        {"role": "user", "content": ""},
    ],
    [{"role": "assistant", "content": None}, {"role": "user", "content": "Line one.\n\nLine two.\n"}],
    [
        {"role": "user", "content": "Weather in Paris?"},
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'}},
            {"id": "call_2", "type": "function", "function": {"name": "get_time", "arguments": "{}"}},
        ]},
        {"role": "tool", "tool_call_id": "call_1", "content": '{"temperature": 21}'},
        {"role": "tool", "tool_call_id": "call_2", "content": "12:00"},
    ],
]


@pytest.mark.parametrize("messages", CONVERSATIONS)
def test_chat_prompt_tokens(client: openai.OpenAI, messages: list[dict]) -> None:
    response = client.chat.completions.create(model="local-text", messages=messages, max_tokens=1)
    assert count_chat(messages, "local-text") == response.usage.prompt_tokens


@pytest.mark.parametrize("prompt", ["def parse(text):", "Emoji 🎉, 서울 and <b>tags</b>", "a<|endoftext|>b", "  trailing  \n"])
def test_completion_prompt_tokens(client: openai.OpenAI, prompt: str) -> None:
    response = client.completions.create(model="local-text", prompt=prompt, max_tokens=1)
    assert count_prompt(prompt, "local-text") == response.usage.prompt_tokens
