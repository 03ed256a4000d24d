"""The token view's shaded text: HTML with rich tooltips on ordinary runs; on long ones each
unit's text and the same words as plain text, made into one element per unit in the browser,
so it is not handed a dozen hidden elements per token, nor a megabyte of HTML."""

import math

from components.token_view import RICH_TOOLTIPS_UP_TO, shaded_text
from playground.logprobs import Alternative, TokenInfo


def tokens(count: int) -> list[TokenInfo]:
    out = []
    for i in range(count):
        word = f" w{i}"
        top = (Alternative(word, math.log(0.6), word.encode()), Alternative(" <b>x</b>", math.log(0.3), b" <b>x</b>"))
        out.append(TokenInfo(i, word, 1000 + i, math.log(0.6), word.encode(), None, top, top_n=2))
    return out


def test_a_short_run_keeps_the_rich_tooltips() -> None:
    text = shaded_text(tokens(10))
    assert text.html.count('<span class="tip">') == 10 and not text.units
    assert "<b>x</b>" not in text.html and "&lt;b&gt;x&lt;/b&gt;" in text.html  # model text is escaped


def test_a_long_run_sends_its_tooltips_as_data_with_each_token_label_once() -> None:
    count = RICH_TOOLTIPS_UP_TO + 1
    text = shaded_text(tokens(count), marks={5: "a sample differs here"})
    assert not text.html and "probability:" in text.legend
    assert [unit[:3] for unit in text.units[6:8]] == [[" w6", "p6", 6], [" w7", "p6", 7]]  # text as text, shade, first index
    assert len(text.units) == count and len(set(text.labels)) == len(text.labels)
    label = text.labels.index
    # note, then per token: index, label, %, id, returned, more, and per alternative: label, %, chosen
    assert text.units[7][3:] == ["", [[7, label("␣w7"), 60.0, 1007, 1, 0, label("␣w7"), 60.0, 1, label("␣<b>x</b>"), 30.0, 0]]]
    assert text.units[5][3] == "a sample differs here"  # the mark's note, shown first, as in the rich view
    assert text.units[5][1] == "p6 mk" and "mk" not in text.units[6][1]


def test_a_long_marked_view_without_alternatives_has_tips_on_marked_units_only() -> None:
    text = shaded_text(tokens(RICH_TOOLTIPS_UP_TO + 1), marks={5: "a sample differs here"}, alternatives=False)
    assert [i for i, unit in enumerate(text.units) if unit[3] or unit[4]] == [5]


def test_a_long_runs_view_made_while_it_arrives_is_the_view_made_at_its_end() -> None:
    """GrowingView, fed the run's tokens as they arrive (a character split over two tokens
    across a feed, and at the end a tail marked not returned), gives shaded_text's bytes."""
    from components.token_view import GrowingView
    from playground.logprobs import mark_unreturned

    run = tokens(RICH_TOOLTIPS_UP_TO + 300)
    euro = "€".encode()  # three bytes: the first token carries two, the next one the last
    run[500] = TokenInfo(500, "bytes:\\xe2\\x82", 1500, math.log(0.2), euro[:2], None, (), top_n=2)
    run[501] = TokenInfo(501, "bytes:\\xac", 1501, math.log(0.9), euro[2:], None, (), top_n=2)
    growing = GrowingView()
    for end in (100, 501, 502, 1000, 1250, len(run)):  # 501: the feed ends inside the character
        growing.extend(run[:end])
    assert growing.rows[499][0] == " w499" and all("\N{REPLACEMENT CHARACTER}" not in row[0] for row in growing.rows)
    text = "".join(t.token for t in run[:-5])
    final = mark_unreturned(run, text.replace("bytes:\\xe2\\x82", "").replace("bytes:\\xac", "€"))
    made = growing.finish(final)
    expected = shaded_text(final)
    assert made.payload == expected.payload
    assert made.units[-1][1].endswith(" nr") and made.units[499 + 1][0] == "€"


def test_a_growing_view_starts_over_for_another_runs_tokens() -> None:
    from components.token_view import GrowingView

    growing = GrowingView()
    growing.extend(tokens(RICH_TOOLTIPS_UP_TO + 50))
    other = [TokenInfo(t.index, t.token.upper(), t.token_id, t.logprob, t.bytes.upper(), None, t.top, top_n=2)
             for t in tokens(RICH_TOOLTIPS_UP_TO + 20)]
    assert growing.finish(other).payload == shaded_text(other).payload
