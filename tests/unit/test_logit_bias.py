"""Logit bias input: words and ids to the exact tokens of the model's encoding, checked."""

from __future__ import annotations

import tiktoken_offline
from playground.logit_bias import MAX_ENTRIES, check_bias, resolve, split_entries

O200K = tiktoken_offline.get_encoding("o200k_base")
CL100K = tiktoken_offline.get_encoding("cl100k_base")


def ids(text: str, enc=O200K) -> list[int]:
    return enc.encode(text)


def test_split_on_newlines_and_commas_but_not_inside_quotes() -> None:
    assert split_entries('hello, world\n 1234 \n\n", "\n\'a,b\'') == ["hello", "world", "1234", '", "', "'a,b'"]


def test_quoted_text_is_exact_and_bare_word_adds_the_space_variant() -> None:
    exact = resolve('" hello"', O200K, default_bias=-100).to_request()
    assert exact == {str(i): -100 for i in ids(" hello")}
    bare = resolve("hello", O200K, default_bias=5).to_request()
    assert bare == {str(ids("hello")[0]): 5, str(ids(" hello")[0]): 5}
    assert ids("hello") != ids(" hello")
    only = resolve("hello", O200K, with_space_variant=False).to_request()
    assert only == {str(ids("hello")[0]): 0}
    escaped = resolve(r'"\n\n"', O200K, default_bias=1).to_request()
    assert escaped == {str(i): 1 for i in ids("\n\n")}


def test_the_same_word_is_different_tokens_in_different_encodings() -> None:
    a = resolve('" tokenizer"', O200K).to_request()
    b = resolve('" tokenizer"', CL100K).to_request()
    assert a != b and a == {str(i): 0 for i in ids(" tokenizer")}
    assert b == {str(i): 0 for i in ids(" tokenizer", CL100K)}


def test_a_word_of_several_tokens_biases_each_and_says_so() -> None:
    word = '"antidisestablishmentarianism"'
    parsed = resolve(word, O200K, default_bias=-100)
    pieces = ids("antidisestablishmentarianism")
    assert len(pieces) > 1
    assert [r.token_id for r in parsed.rows] == pieces
    assert parsed.notes and f"is {len(pieces)} tokens" in parsed.notes[0]
    assert "".join(r.text for r in parsed.rows) == "antidisestablishmentarianism"


def test_ids_are_checked_against_the_vocabulary() -> None:
    parsed = resolve("15339", O200K, default_bias=100)
    assert parsed.to_request() == {"15339": 100}
    assert parsed.rows[0].text == O200K.decode([15339])
    for bad, reason in [
        (str(O200K.n_vocab), "not a token id of o200k_base"),
        ("-3", "not a token id"),
        ("1.5", "whole number"),
        ("200010", "no token with id"),  # an unused id between the vocabulary and the specials
        ('"open', "closing quote"),
    ]:
        parsed = resolve(bad, O200K)
        assert parsed.to_request() is None, bad
        assert reason in parsed.errors[0], parsed.errors
    # cl100k_base has fewer ids: a valid o200k id can be invalid there
    assert resolve("150000", O200K).ok and not resolve("150000", CL100K).ok


def test_biases_per_token_and_their_range() -> None:
    token = ids(" hello")[0]
    parsed = resolve('" hello", world', O200K, default_bias=0, biases={token: -100})
    request = parsed.to_request()
    assert request[str(token)] == -100 and all(v == 0 for k, v in request.items() if k != str(token))
    assert check_bias(100, "x") == (100, None) and check_bias(-100.0, "x") == (-100, None)
    for bad in (101, -100.5, "7", True, float("nan")):
        assert check_bias(bad, "x")[0] is None
    assert resolve("hello", O200K, default_bias=150).to_request() is None


def test_pasted_json_object_keeps_its_biases_and_is_checked() -> None:
    assert resolve('{"15339": -100, "1917": 7}', O200K).to_request() == {"15339": -100, "1917": 7}
    out_of_range = resolve('{"15339": 500}', O200K)
    assert out_of_range.to_request() is None and "out of range" in out_of_range.errors[0]
    assert "token ids" in resolve('{"hello": 1}', O200K).errors[0]
    assert "does not parse" in resolve('{"15339": }', O200K).errors[0]


def test_duplicates_are_biased_once_and_too_many_entries_are_refused() -> None:
    parsed = resolve("15339, 15339", O200K)
    assert parsed.to_request() == {"15339": 0} and "already listed" in parsed.notes[0]
    many = ", ".join(str(i) for i in range(1000, 1000 + MAX_ENTRIES))
    assert len(resolve(many, O200K).to_request()) == MAX_ENTRIES
    too_many = resolve(many + ", 5", O200K)
    assert too_many.to_request() is None and f"at most {MAX_ENTRIES}" in too_many.errors[0]


def test_empty_input_sends_nothing() -> None:
    assert resolve("  \n , ", O200K).to_request() == {}
