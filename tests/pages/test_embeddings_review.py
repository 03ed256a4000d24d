"""Issue 15, item 13: what new users tripped on in the Embeddings page (AppTest, real engine)."""

from __future__ import annotations

from typing import Callable

from streamlit.testing.v1 import AppTest

from tests.pages.test_embeddings import PAGE, metrics, texts_of


def results_tables(at: AppTest) -> list:
    return [d.value for d in at.dataframe if "similarity" in d.value.columns]


def search(at: AppTest, query: str) -> AppTest:
    at.text_area(key="emb_queries").input(query).run()
    at.button(key="emb_search").click().run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def test_clicking_the_selected_source_keeps_it_selected(open_app: Callable[..., AppTest]) -> None:
    at = open_app(PAGE)
    at.segmented_control(key="emb_source").set_value(None).run()  # what a click on the selected segment sends
    assert not at.exception, [e.message for e in at.exception]
    assert at.segmented_control(key="emb_source").value == "Sample"
    assert metrics(at)["Texts"] == "290"  # the corpus section is still there


def test_projection_says_which_packages_t_sne_and_umap_need(open_app: Callable[..., AppTest]) -> None:
    at = open_app(PAGE)
    at.button(key="emb_embed").click().run()
    notes = " ".join(texts_of(at, "caption"))
    assert "umap-learn" in notes and "scikit-learn" in notes and "pip install" in notes


def test_the_disk_cache_is_shown_and_can_be_cleared(open_app: Callable[..., AppTest]) -> None:
    at = open_app(PAGE)
    at.button(key="emb_embed").click().run()
    at.run()
    assert metrics(at)["Already cached"] == "290"
    shown = " ".join(texts_of(at, "caption"))
    assert "vectors.sqlite" in shown and "MB" in shown
    at.button(key="emb_cache_clear").click().run()
    assert metrics(at)["Already cached"] == "290"  # asks first
    at.button(key="emb_cache_clear_confirm").click().run()
    assert not at.exception, [e.message for e in at.exception]
    assert metrics(at)["Already cached"] == "0"
    assert any("Cleared" in s for s in texts_of(at, "success"))
