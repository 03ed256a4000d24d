"""The token view's HTML: rich tooltips on ordinary runs; on long ones the same words as
plain text in one attribute per unit, so the browser is not handed a dozen hidden elements
per token."""

import html
import math
import re

from components.token_view import RICH_TOOLTIPS_UP_TO, token_html
from playground.logprobs import Alternative, TokenInfo


def tokens(count: int) -> list[TokenInfo]:
    out = []
    for i in range(count):
        word = f" w{i}"
        top = (Alternative(word, math.log(0.6), word.encode()), Alternative(" <b>x</b>", math.log(0.3), b" <b>x</b>"))
        out.append(TokenInfo(i, word, 1000 + i, math.log(0.6), word.encode(), None, top, top_n=2))
    return out


def test_a_short_run_keeps_the_rich_tooltips() -> None:
    body = token_html(tokens(10))
    assert body.count('<span class="tip">') == 10 and 'data-tip="' not in body


def test_a_long_run_says_the_same_in_plain_text_tooltips() -> None:
    count = RICH_TOOLTIPS_UP_TO + 1
    body = token_html(tokens(count), marks={5: "a sample differs here"})
    assert '<span class="tip">' not in body
    tips = [html.unescape(t) for t in re.findall(r'data-tip="([^"]*)"', body)]
    assert len(tips) == count
    assert tips[7].splitlines() == ["#7 ␣w7  60.00%  id 1007", "✓  60.0%  ␣w7", "   30.0%  ␣<b>x</b>"]
    assert tips[5].startswith("a sample differs here\n\n#5 ")  # the mark's note first, as in the rich view
    assert "<b>" not in body  # model text is escaped in the attribute too
