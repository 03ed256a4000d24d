"""A long run's tooltips are written by the browser from data (components/token_view.py's
_TIP_JS): they must say, character for character, what the rich view's tooltips say."""

import math

from components.token_view import _TIP_JS, TOOLTIP_ALTERNATIVES, _tip_data, _tooltip_lines
from playground.logprobs import Alternative, TokenInfo


def alt(token: str, p: float, raw: bytes | None = None) -> Alternative:
    return Alternative(token, math.log(p), raw if raw is not None else token.encode())


def edge_cases() -> list[TokenInfo]:
    many = tuple(alt(f" a{k}", 0.5 / (k + 1)) for k in range(9))
    return [
        TokenInfo(0, "Once", 7, None, b"Once", None, (), is_prompt=True),  # an echoed prompt's first token
        TokenInfo(1, " upon", 8, math.log(0.61237), b" upon", None, (alt(" upon", 0.61237), alt(" <b>", 0.125)), top_n=2),
        TokenInfo(2, "\ufffd", 9, math.log(0.2), b"\xf0\x9f", None, (alt("\ufffd", 0.2, b"\xf0\x9f"), alt("\n", 0.05)), top_n=2),
        TokenInfo(3, " rare", None, math.log(0.001), b" rare", None, (*many[:2], alt(" rare", 0.001)), top_n=2),  # not among the top 2
        TokenInfo(4, " a7", 11, math.log(0.5 / 8), b" a7", None, many, top_n=9),  # among the top, past the tooltip's 5
        TokenInfo(5, ".", 13, math.log(0.9995), b".", None, (alt(".", 0.9995),), top_n=1, returned=False),
        TokenInfo(6, " x", 14, math.log(0.25), b" x", None, (alt(" x", 0.25), alt(" y", 0.25)), top_n=2),  # a tie
    ]


def tooltip_text(t: TokenInfo) -> str:
    """The rich view's tooltip of a token, as text."""
    return "\n".join(text for _, text, _ in _tooltip_lines(t))


def test_the_browser_writes_a_long_views_tooltips_as_the_rich_view_does(browser):  # noqa: ANN001
    tokens = edge_cases()
    assert len(tokens[4].top) > TOOLTIP_ALTERNATIVES
    labels: dict[str, int] = {}
    units = [["", [_tip_data(t, labels)]] for t in tokens]
    units.append(["a sample differs here", [_tip_data(tokens[1], labels), _tip_data(tokens[6], labels)]])  # a mark, two tokens
    expected = [tooltip_text(t) for t in tokens]
    expected.append("\n\n".join(["a sample differs here", tooltip_text(tokens[1]), tooltip_text(tokens[6])]))

    context = browser.new_context()
    try:
        page = context.new_page()
        written = page.evaluate(f"([units, labels]) => {{ {_TIP_JS}; return units.map((unit) => tipText(unit, labels)); }}",
                                [units, list(labels)])
    finally:
        context.close()
    assert written == expected
    assert "not among the top 2" in written[3] and "rank 8" in written[4] and "+" in written[4] and written[0].startswith("#0 Once  n/a")
