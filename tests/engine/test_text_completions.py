"""/v1/completions on local-text, through the real openai SDK over HTTP."""

from __future__ import annotations

import math

import openai
import pytest

import tiktoken_offline

MODEL = "local-text"
ENC = tiktoken_offline.get_encoding("o200k_base")
PROMPT = "Return the number of"


def test_temperature_zero_picks_the_top_token_every_time(client: openai.OpenAI) -> None:
    r = client.completions.create(model=MODEL, prompt=PROMPT, temperature=0, max_tokens=12, logprobs=5)
    lp = r.choices[0].logprobs
    assert len(lp.tokens) == len(lp.token_logprobs) == len(lp.top_logprobs) == len(lp.text_offset) > 0
    for token, logprob, top in zip(lp.tokens, lp.token_logprobs, lp.top_logprobs):
        best = max(top.values())
        assert math.isclose(logprob, best, abs_tol=1e-6)
        assert top[token] == best
        assert 5 <= len(top) <= 6
    assert "".join(lp.tokens) == r.choices[0].text
    assert lp.text_offset[0] == len(PROMPT)
    assert r.usage.prompt_tokens == len(ENC.encode(PROMPT))
    assert r.usage.completion_tokens == len(lp.tokens) or r.choices[0].finish_reason == "stop"
    assert r.usage.total_tokens == r.usage.prompt_tokens + r.usage.completion_tokens
    assert r.id.startswith("cmpl-") and r.object == "text_completion" and r.model == MODEL
    assert r.system_fingerprint


def test_logit_bias_minus_100_removes_the_top_token(client: openai.OpenAI) -> None:
    first = client.completions.create(model=MODEL, prompt=PROMPT, temperature=0, max_tokens=1, logprobs=1)
    top_token = first.choices[0].logprobs.tokens[0]
    top_id = ENC.encode(top_token)[0]
    banned = client.completions.create(
        model=MODEL, prompt=PROMPT, temperature=0, max_tokens=1, logprobs=1, logit_bias={str(top_id): -100}
    )
    assert banned.choices[0].logprobs.tokens[0] != top_token
    forced = client.completions.create(
        model=MODEL, prompt=PROMPT, temperature=1, max_tokens=3, seed=5, logit_bias={str(ENC.encode(" zebra")[0]): 100}
    )
    assert forced.choices[0].text == " zebra zebra zebra"


def test_tiny_top_p_gives_the_argmax(client: openai.OpenAI) -> None:
    greedy = client.completions.create(model=MODEL, prompt=PROMPT, temperature=0, max_tokens=10)
    for seed in (1, 2):
        nucleus = client.completions.create(
            model=MODEL, prompt=PROMPT, temperature=1.5, top_p=1e-9, max_tokens=10, seed=seed
        )
        assert nucleus.choices[0].text == greedy.choices[0].text


def test_stop_sequence_ends_the_text_before_it(client: openai.OpenAI) -> None:
    full = client.completions.create(model=MODEL, prompt=PROMPT, temperature=0, max_tokens=30)
    text = full.choices[0].text
    # a stop made of the middle of the text: it spans token boundaries
    stop = text[8:14]
    cut = client.completions.create(model=MODEL, prompt=PROMPT, temperature=0, max_tokens=30, stop=[stop, "@@@"])
    assert cut.choices[0].text == text[: text.index(stop)]
    assert cut.choices[0].finish_reason == "stop"
    assert stop not in cut.choices[0].text
    streamed = client.completions.create(
        model=MODEL, prompt=PROMPT, temperature=0, max_tokens=30, stop=stop, stream=True
    )
    assert "".join(c.choices[0].text for c in streamed if c.choices) == cut.choices[0].text


def test_echo_returns_the_prompt_with_its_logprobs(client: openai.OpenAI) -> None:
    prompt = "Return a list of strings."
    r = client.completions.create(model=MODEL, prompt=prompt, echo=True, max_tokens=3, logprobs=2, temperature=0)
    c = r.choices[0]
    n_prompt = len(ENC.encode(prompt))
    assert c.text.startswith(prompt)
    assert c.logprobs.tokens[:n_prompt] == [ENC.decode([t]) for t in ENC.encode(prompt)]
    assert c.logprobs.token_logprobs[0] is None and c.logprobs.top_logprobs[0] is None
    assert all(isinstance(x, float) and x < 0 for x in c.logprobs.token_logprobs[1:])
    assert c.logprobs.text_offset[:3] == [0, len("Return"), len("Return a")]
    # max_tokens 0 + echo: scoring only
    score = client.completions.create(model=MODEL, prompt=prompt, echo=True, max_tokens=0, logprobs=0)
    assert score.choices[0].text == prompt and score.usage.completion_tokens == 0
    assert score.choices[0].logprobs.token_logprobs[1:] == pytest.approx(c.logprobs.token_logprobs[1:n_prompt])


def test_seeds_reproduce_and_differ(client: openai.OpenAI) -> None:
    def run(seed: int) -> list[str]:
        r = client.completions.create(model=MODEL, prompt=PROMPT, max_tokens=20, temperature=1, seed=seed, n=2)
        return [c.text for c in r.choices]

    a, b, other = run(7), run(7), run(8)
    assert a == b
    assert a != other
    assert a[0] != a[1]  # each choice has its own stream


def test_streaming_joins_to_the_same_text(client: openai.OpenAI) -> None:
    kwargs = dict(model=MODEL, prompt=PROMPT, max_tokens=40, temperature=0.8, seed=11, logprobs=3)
    whole = client.completions.create(**kwargs)
    chunks = list(client.completions.create(**kwargs, stream=True, stream_options={"include_usage": True}))
    text = "".join(c.choices[0].text for c in chunks if c.choices)
    assert text == whole.choices[0].text
    tokens = [t for c in chunks if c.choices and c.choices[0].logprobs for t in c.choices[0].logprobs.tokens]
    assert tokens == whole.choices[0].logprobs.tokens
    assert chunks[-1].choices == [] and chunks[-1].usage.completion_tokens == whole.usage.completion_tokens
    assert all(c.usage is None for c in chunks[:-1])
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == whole.choices[0].finish_reason


def test_n_and_prompt_lists_index_choices_like_the_api(client: openai.OpenAI) -> None:
    prompts = ["Return the", [ENC.encode("Create a new")[0], ENC.encode("Create a new")[1]]]
    r = client.completions.create(model=MODEL, prompt=[ENC.encode("Return the"), ENC.encode("Create a new")], n=2, max_tokens=4, seed=1)
    assert [c.index for c in r.choices] == [0, 1, 2, 3]
    assert r.usage.prompt_tokens == len(ENC.encode("Return the")) + len(ENC.encode("Create a new"))
    strings = client.completions.create(model=MODEL, prompt=["Return the", "Create a new"], max_tokens=4, seed=1)
    assert len(strings.choices) == 2
    single = client.completions.create(model=MODEL, prompt=prompts[1], max_tokens=2)
    assert len(single.choices) == 1


def test_best_of_returns_the_best_mean_logprob(client: openai.OpenAI) -> None:
    kwargs = dict(model=MODEL, prompt=PROMPT, max_tokens=8, temperature=1.2, seed=3, logprobs=0)
    best = client.completions.create(**kwargs, n=2, best_of=5)
    assert len(best.choices) == 2
    candidates = client.completions.create(**kwargs, n=5)
    means = sorted(
        (sum(c.logprobs.token_logprobs) / len(c.logprobs.token_logprobs) for c in candidates.choices if c.logprobs.tokens),
        reverse=True,
    )
    got = [sum(c.logprobs.token_logprobs) / len(c.logprobs.token_logprobs) for c in best.choices]
    assert got == pytest.approx(means[:2])
    assert best.usage.completion_tokens == candidates.usage.completion_tokens
    with pytest.raises(openai.BadRequestError) as err:
        client.completions.create(model=MODEL, prompt=PROMPT, n=3, best_of=2)
    assert err.value.param == "best_of"
    with pytest.raises(openai.BadRequestError) as err:
        client.completions.create(model=MODEL, prompt=PROMPT, best_of=3, stream=True)
    assert err.value.param == "best_of"


def test_penalties_discourage_repeats(client: openai.OpenAI) -> None:
    kwargs = dict(model=MODEL, prompt=PROMPT, temperature=0, max_tokens=60, logit_bias={str(ENC.eot_token): -100})
    plain = ENC.encode(client.completions.create(**kwargs).choices[0].text)
    penalized = ENC.encode(
        client.completions.create(**kwargs, frequency_penalty=1.5, presence_penalty=1.0).choices[0].text
    )
    assert len(set(penalized)) / len(penalized) > len(set(plain)) / len(plain)
    negative = ENC.encode(client.completions.create(**kwargs, presence_penalty=-2).choices[0].text)
    assert len(set(negative)) <= len(set(plain))


def test_max_tokens_and_finish_reason(client: openai.OpenAI) -> None:
    r = client.completions.create(model=MODEL, prompt=PROMPT, max_tokens=3, temperature=0)
    assert r.choices[0].finish_reason == "length" and r.usage.completion_tokens == 3
    default = client.completions.create(model=MODEL, prompt=PROMPT, temperature=0, logit_bias={str(ENC.eot_token): -100})
    assert default.usage.completion_tokens == 16  # the API's default max_tokens
    with pytest.raises(openai.BadRequestError) as err:
        client.completions.create(model=MODEL, prompt=PROMPT, max_tokens=9000)
    assert "maximum context length is 8192 tokens" in err.value.message
    assert err.value.code == "context_length_exceeded"


def test_suffix_is_accepted(client: openai.OpenAI) -> None:
    r = client.completions.create(model=MODEL, prompt=PROMPT, suffix=" end.", max_tokens=5, temperature=0)
    plain = client.completions.create(model=MODEL, prompt=PROMPT, max_tokens=5, temperature=0)
    assert r.choices[0].text == plain.choices[0].text  # left-to-right model: the suffix is not used


def test_docstring_english_at_temperature_07(client: openai.OpenAI) -> None:
    r = client.completions.create(model=MODEL, prompt="Return", max_tokens=60, temperature=0.7, seed=2)
    words = r.choices[0].text.split()
    common = {"the", "a", "of", "to", "is", "and", "in", "if", "be", "for", "this", "an", "or"}
    assert sum(w.lower().strip(".,") in common for w in words) >= len(words) / 8
    print("sample:", r.choices[0].text)


def test_usage_counts_exactly_the_returned_tokens_when_the_text_ends_by_itself(client):
    # Long enough budgets that some choices end with <|endoftext|> rather than the limit.
    result = client.completions.create(
        model="local-text", prompt="Return True if", max_tokens=200, n=6, seed=11, logprobs=0, temperature=1
    )
    ended = [c for c in result.choices if c.finish_reason == "stop"]
    assert ended, "expected at least one choice to end by itself"
    assert result.usage.completion_tokens == sum(len(c.logprobs.tokens) for c in result.choices)
