"""Issue 15, item 13: what new users tripped on in the Embeddings page (AppTest, real engine)."""

from __future__ import annotations

import json
from typing import Callable

from streamlit.testing.v1 import AppTest

from tests.pages.test_embeddings import PAGE, metrics, results_tables, texts_of, upload


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


REVIEWS = "title,text,stars\n" + "".join(
    f"R{i},Great blender: it crushes ice in seconds and is easy to clean.,5\n" for i in range(6)
) + (
    "S1,This blender is loud but crushes ice well.,4\n"
    "S2,My blender broke after a week; it could not crush ice.,1\n"
    "S3,A quiet blender that makes smooth soups.,5\n"
    "S4,The kettle boils water quickly.,3\n"
    "S5,Shoes that fit well and last long.,4\n"
    "S6,A novel about a family in Dublin.,2\n"
)


def test_duplicate_texts_are_collapsed_in_the_results(open_app: Callable[..., AppTest]) -> None:
    at = upload(open_app(PAGE), "reviews.csv", REVIEWS.encode())
    at.multiselect(key="emb_columns").set_value(["text"]).run()
    at.button(key="emb_embed").click().run()
    table = results_tables(search(at, "a blender that crushes ice"))[0]
    assert len(table) == 5 and table["text"].is_unique  # five different reviews, not six copies of one
    copies = table[table["text"].str.startswith("Great blender")]
    assert copies["duplicates"].tolist() == ["×6 duplicates"]


def test_results_can_be_filtered_by_another_column(open_app: Callable[..., AppTest]) -> None:
    at = upload(open_app(PAGE), "reviews.csv", REVIEWS.encode())
    at.multiselect(key="emb_columns").set_value(["text"]).run()
    at.button(key="emb_embed").click().run()
    at.selectbox(key="emb_filter_column").set_value("stars").run()
    at.multiselect(key="emb_filter_values").set_value(["5"]).run()
    table = results_tables(search(at, "a blender that crushes ice"))[0]
    assert len(table) == 2 and set(table["stars"].astype(str)) == {"5"}  # the 6 copies and S3, collapsed: 2 texts


def plotly_spec(at: AppTest) -> dict:
    return json.loads(at.get("plotly_chart")[0].proto.spec)


def test_map_colours_are_distinct_queries_in_the_legend_and_hover_names_the_row(open_app: Callable[..., AppTest]) -> None:
    rows = "".join(f"T{i},Item number {i} of the catalogue about topic {i % 13},{'group' + str(i % 13)}\n" for i in range(60))
    at = upload(open_app(PAGE), "topics.csv", ("title,text,group\n" + rows).encode())
    at.multiselect(key="emb_columns").set_value(["text"]).run()
    at.button(key="emb_embed").click().run()
    at.selectbox(key="emb_colour_by").set_value("group").run()
    search(at, "topic 3\ntopic 4\ntopic 5").run()  # the map follows the matches: in a browser once they are painted
    data = plotly_spec(at)["data"]
    groups = [t for t in data if str(t.get("name", "")).startswith("group")]
    assert len(groups) == 13
    colours = [t["marker"]["color"] for t in groups]
    assert len(set(colours)) == 13  # no two categories share a colour
    queries = [t for t in data if str(t.get("name", "")).startswith("query")]
    assert len(queries) == 3 and all("text" not in t.get("mode", "") for t in queries)  # named in the legend, no piled labels
    hover = " ".join(str(h) for t in groups for h in t["customdata"])
    assert "title: T3" in hover


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
