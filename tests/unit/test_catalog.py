import pytest

from playground.catalog import as_billed, base_model_of, load_catalog, model_info
from playground.tokens import encoding_name_for_model


def test_prices_and_capabilities_come_from_the_data_file_with_its_date():
    catalog = load_catalog()
    assert catalog.checked  # the date the figures were checked
    info = model_info("gpt-4o-mini")
    assert info.input_price == 0.15 and info.output_price == 0.60
    assert info.cost(1_000_000, 1_000_000) == 0.75


def test_reasoning_models_refuse_sampling_controls_with_a_reason():
    info = model_info("o3")
    assert not info.supports("temperature") and not info.supports("logprobs")
    assert "reasoning" in info.why_unsupported("top_p")
    assert info.max_tokens_param == "max_completion_tokens"
    assert model_info("gpt-4o").why_unsupported("temperature") is None


def test_snapshots_and_fine_tuned_models_take_their_family_entry():
    assert model_info("gpt-4o-2024-08-06").context_window == 128000
    assert base_model_of("ft:gpt-4o-mini-2024-07-18:org:suffix:abc") == "gpt-4o-mini-2024-07-18"
    assert model_info("ft:gpt-4o-mini-2024-07-18:org:suffix:abc").fine_tunable
    assert model_info("ft:local-text:demo:ftjob-1").endpoints == ("chat", "completions")


def test_unknown_models_are_allowed_everything_with_no_price():
    info = model_info("llama3.1:8b")
    assert not info.known and info.input_price is None and info.cost(10, 10) is None
    assert info.supports("temperature")


def test_each_model_maps_to_its_encoding():
    assert encoding_name_for_model("gpt-4o") == "o200k_base"
    assert encoding_name_for_model("gpt-3.5-turbo") == "cl100k_base"
    assert encoding_name_for_model("gpt-4-0613") == "cl100k_base"
    assert encoding_name_for_model("ft:gpt-3.5-turbo-0125:org::x") == "cl100k_base"
    assert encoding_name_for_model("local-text") == "o200k_base"
    assert encoding_name_for_model("some-unknown-model") == "o200k_base"


def test_prices_are_what_the_provider_bills():
    info = model_info("gpt-4o-mini")
    assert as_billed(info, "openai") == info and as_billed(info, "azure") == info
    assert as_billed(info, "local").cost(1000, 1000) == 0
    assert as_billed(info, "compatible").cost(1000, 1000) is None
    assert as_billed(info, "compatible", (1.0, None)).cost(1_000_000, 5) == pytest.approx(1.0)
