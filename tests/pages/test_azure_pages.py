"""Every page driven with the Azure provider: the SDK's AzureOpenAI against the engine's
Azure layout (deployments, api-version, api-key)."""

from __future__ import annotations

from tests.conftest import recorded_requests
from tests.pages.azure import use_azure
from tests.pages.test_embeddings import results_tables


def test_completions_on_an_azure_deployment_with_content_filter_results(open_app, engine_url):
    at = use_azure(open_app("app_pages/completions.py"), engine_url)
    # Deployments whose model serves completions; not the embedding or image ones.
    assert at.selectbox(key="completions_model").options == ["gpt-4o-mini (local-text)", "local-text"]
    at.selectbox(key="completions_model").set_value("local-text").run()
    at.text_area(key="completions_prompt").input("Return the number of").run()
    at.number_input(key="completions_max_tokens").set_value(6).run()
    at.button(key="completions_run").click().run()
    assert not at.exception, [e.message for e in at.exception]
    assert recorded_requests(engine_url)[-1]["path"] == "/openai/deployments/local-text/completions"
    assert any("Azure content filter: nothing filtered" in e.label for e in at.expander)
    code = " ".join(c.value for c in at.code)
    assert "AzureOpenAI(" in code and "api_version=" in code and "test-key" not in code


def test_chat_on_the_gpt_4o_mini_deployment(open_app, engine_url):
    at = use_azure(open_app("app_pages/chat.py"), engine_url)
    # Chat lists gpt-4o-mini (a deployment of local-text) with local-text's capabilities.
    assert "gpt-4o-mini (local-text)" in at.selectbox(key="chat_model").options
    at.selectbox(key="chat_model").set_value("gpt-4o-mini").run()
    at.chat_input(key="chat_input").set_value("Say hello").run()
    assert not at.exception, [e.message for e in at.exception]
    sent = recorded_requests(engine_url)[-1]
    assert sent["path"] == "/openai/deployments/gpt-4o-mini/chat/completions"
    assert sent["body"]["messages"][-1] == {"role": "user", "content": "Say hello"}
    assert any("Azure content filter" in e.label for e in at.expander)


def test_a_wrong_deployment_name_is_explained(open_app, engine_url):
    at = use_azure(open_app("app_pages/chat.py"), engine_url, version="2024-06-01")
    at.session_state["_models"] = (at.session_state["connection"], ["no-such-deployment"])
    at.session_state["_deployment_models"] = {"no-such-deployment": "gpt-4o-mini"}
    at.run()
    # the deployment chosen before is kept, marked as not offered here: pick the listed one
    assert "not offered" in " ".join(w.value for w in at.warning)
    at.selectbox(key="chat_model").set_value("no-such-deployment").run()
    at.chat_input(key="chat_input").set_value("Hi").run()
    assert not at.exception
    shown = " ".join(e.value for e in at.error)
    assert "No deployment by that name" in shown


def test_embeddings_search_on_an_azure_deployment(open_app, engine_url):
    at = use_azure(open_app("app_pages/embeddings.py"), engine_url)
    at.segmented_control(key="emb_source").set_value("Paste").run()
    at.text_area(key="emb_paste").input("The cat sat on the mat.\nStocks fell sharply today.").run()
    at.selectbox(key="emb_model").set_value("text-embedding-3-small").run()
    at.button(key="emb_embed").click().run()
    assert not at.exception, [e.message for e in at.exception]
    assert recorded_requests(engine_url)[-1]["path"] == "/openai/deployments/text-embedding-3-small/embeddings"
    at.text_area(key="emb_queries").input("a cat on a mat").run()
    at.button(key="emb_search").click().run()
    tables = results_tables(at)
    assert tables and tables[0]["text"].iloc[0] == "The cat sat on the mat."


def test_fine_tuning_files_and_jobs_under_openai(open_app, engine_url):
    from tests.pages.test_fine_tuning import jsonl, sentiment_examples

    at = use_azure(open_app("app_pages/fine_tuning.py"), engine_url)
    at.file_uploader(key="ft_check_file").set_value(("reviews.jsonl", jsonl(sentiment_examples()), "application/jsonl")).run()
    at.button(key="ft_upload_training").click().run()
    assert not at.exception, [e.message for e in at.exception]
    assert recorded_requests(engine_url)[-1]["path"] == "/openai/files"
    assert at.session_state["ft_training_pick"].startswith("file-")
    at.session_state["ft_tab"] = "Start a job"
    at.run()
    next(b for b in at.button if b.label == "Start fine-tuning").click().run()
    assert not at.exception, [e.message for e in at.exception]
    assert recorded_requests(engine_url)[-1]["path"] == "/openai/fine_tuning/jobs"
    assert at.session_state["ft_job"].startswith("ftjob")


def test_image_variations_on_an_azure_deployment_say_azure_has_none(open_app, engine_url):
    at = use_azure(open_app("app_pages/images.py"), engine_url)
    assert any("Azure OpenAI offers no dall-e-2 variations" in c.value for c in at.caption)
    at.selectbox(key="images_model").set_value("dall-e-2").run()
    at.selectbox(key="images_sample").set_value("Still life").run()
    at.slider(key="images_n").set_value(2)
    at.selectbox(key="images_size").set_value("256x256")
    at.button(key="images_generate").click().run()
    assert not at.exception, [e.message for e in at.exception]
    assert recorded_requests(engine_url)[-1]["path"] == "/openai/deployments/dall-e-2/images/variations"
    assert len(at.session_state["images_runs"][-1]["pngs"]) == 2


def test_compare_two_configurations_on_azure_deployments_then_find_them_in_history(open_app, engine_url):
    at = use_azure(open_app("app_pages/compare.py"), engine_url)
    at.text_area(key="cmp_prompt").set_value("def merge(left, right):\n    \"\"\"")
    at.number_input(key="cmp_count").set_value(2)
    at.number_input(key="cmp_max_tokens").set_value(8)
    at.run()
    assert not at.warning, [w.value for w in at.warning]
    before = len(recorded_requests(engine_url))
    at.button(key="cmp_run").click().run(timeout=120)
    assert not at.exception, [e.message for e in at.exception]
    paths = {r["path"] for r in recorded_requests(engine_url)[before:]}
    assert paths and all(p.startswith("/openai/deployments/") for p in paths)
    at.switch_page("app_pages/history.py")
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    at.selectbox(key="hist_tag").set_value("compare").run()
    assert "2 runs match" in " ".join(c.value for c in at.caption)


def test_a_chosen_deployment_survives_runs_that_hide_the_picker(open_app, engine_url):
    at = use_azure(open_app("app_pages/embeddings.py"), engine_url)
    at.selectbox(key="emb_model").set_value("text-embedding-3-small").run()
    at.segmented_control(key="emb_source").set_value("Paste").run()  # no corpus yet: no picker drawn
    assert not [s for s in at.selectbox if s.key == "emb_model"]
    at.text_area(key="emb_paste").input("The cat sat on the mat.").run()
    assert at.selectbox(key="emb_model").value == "text-embedding-3-small"
