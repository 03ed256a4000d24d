"""Compare page: four configurations run together against the real engine."""

from __future__ import annotations

from typing import Callable

import httpx
from streamlit.testing.v1 import AppTest

from playground.history import History, default_path
from tests.conftest import recorded_requests

TEMPERATURES = [0.0, 0.6, 1.3, 2.0]
SEEDS = [11, 22, 33, 44]


def test_four_configurations_run_side_by_side(open_app: Callable[..., AppTest], engine_url: str) -> None:
    at = open_app("app_pages/compare.py")
    at.text_area(key="cmp_prompt").set_value("def merge(left, right):\n    \"\"\"")
    at.number_input(key="cmp_count").set_value(4)
    at.number_input(key="cmp_max_tokens").set_value(12)
    at.run()
    for i in range(4):
        at.slider(key=f"cmp{i}_temperature").set_value(TEMPERATURES[i])
        at.number_input(key=f"cmp{i}_seed").set_value(SEEDS[i])
    at.slider(key="cmp3_top_p").set_value(0.5)
    at.slider(key="cmp2_presence_penalty").set_value(1.5)
    at.run()
    before = len(recorded_requests(engine_url, "/completions"))

    at.button(key="cmp_run").click().run(timeout=120)

    assert not at.exception, [e.message for e in at.exception]
    bodies = recorded_requests(engine_url, "/completions")[before:]
    assert len(bodies) == 4
    sent = sorted((b["body"].get("temperature", 1.0), b["body"]["seed"]) for b in bodies)
    assert sent == sorted(zip(TEMPERATURES, SEEDS))
    for body in bodies:
        assert body["body"]["prompt"].startswith("def merge(left, right)")
        assert body["body"]["stream"] is True and body["body"]["max_tokens"] == 12 and body["body"]["logprobs"] == 5
    by_seed = {b["body"]["seed"]: b["body"] for b in bodies}
    assert by_seed[44]["top_p"] == 0.5 and by_seed[33]["presence_penalty"] == 1.5

    # four columns of output: the first as text, the others as a diff against it, each with its token view
    labels = [m.value for m in at.markdown if m.value.startswith(("**1.", "**2.", "**3.", "**4."))]
    assert any("T=0 · seed=11" in v for v in labels) and any("T=2 · top_p=0.5 · seed=44" in v for v in labels)
    diffs = [h for h in at.get("html") if 'class="diff"' in h.proto.body]
    assert len(diffs) == 3
    assert len(at.tabs) >= 4 and [t.label for t in at.tabs[:4]] == ["1. tokens", "2. tokens", "3. tokens", "4. tokens"]
    assert [m.label for m in at.metric].count("Generated tokens") == 4  # a token view per column
    assert not [w for w in at.warning if "not saved" in w.value]

    # the four runs are in the history, tagged "compare"
    at.switch_page("app_pages/history.py")
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    at.selectbox(key="hist_tag").set_value("compare").run()
    assert "4 runs match" in " ".join(c.value for c in at.caption)


def test_saved_runs_compare_without_a_request(open_app: Callable[..., AppTest], engine_url: str) -> None:
    at = open_app("app_pages/compare.py")
    at.number_input(key="cmp_max_tokens").set_value(8)
    at.run()
    at.button(key="cmp_run").click().run(timeout=120)
    assert not at.exception, [e.message for e in at.exception]
    before = len(recorded_requests(engine_url))

    at.segmented_control(key="cmp_mode").set_value("Saved runs").run()
    assert len(at.multiselect(key="cmp_saved").options) == 2
    saved_ids = [r.id for r in History(default_path()).search().runs]
    at.multiselect(key="cmp_saved").set_value(saved_ids).run()

    assert not at.exception, [e.message for e in at.exception]
    assert len([h for h in at.get("html") if 'class="diff"' in h.proto.body]) == 1
    assert len(recorded_requests(engine_url)) == before  # nothing was sent


def test_chat_configurations_compare(open_app: Callable[..., AppTest], engine_url: str) -> None:
    at = open_app("app_pages/compare.py")
    at.segmented_control(key="cmp_endpoint").set_value("chat").run()
    at.text_area(key="cmp_user").set_value("Explain zip.")
    at.number_input(key="cmp_max_tokens").set_value(10)
    at.slider(key="cmp0_temperature").set_value(0.0)
    at.run()
    before = len(recorded_requests(engine_url, "/chat/completions"))
    at.button(key="cmp_run").click().run(timeout=120)
    assert not at.exception, [e.message for e in at.exception]
    bodies = [b["body"] for b in recorded_requests(engine_url, "/chat/completions")[before:]]
    assert len(bodies) == 2
    assert all(b["messages"][-1] == {"role": "user", "content": "Explain zip."} and b["logprobs"] is True for b in bodies)
    assert sorted(b.get("temperature", 1.0) for b in bodies) == [0.0, 1.2]
    assert [m.label for m in at.metric].count("Generated tokens") == 2


def test_each_configuration_may_use_its_own_connection_and_keys_stay_with_their_host(
        open_app: Callable[..., AppTest], engine_url: str, start_engine, app_env) -> None:  # noqa: ANN001
    other_key = "sk-other-server-key-1234567890"
    with start_engine("--api-key", other_key, "--record-requests") as other_url:
        at = open_app("app_pages/compare.py")
        at.number_input(key="cmp_max_tokens").set_value(6).run()
        at.selectbox(key="cmp_where_1").set_value("compatible").run()
        at.text_input(key="cmp_c1_compatible_base").set_value(other_url).run()
        at.text_input(key="cmp_c1_compatible_key").set_value(other_key).run()
        assert not at.exception, [e.message for e in at.exception]
        before_here = len(recorded_requests(engine_url, "/completions"))
        at.button(key="cmp_run").click().run(timeout=120)
        assert not at.exception, [e.message for e in at.exception]

        # each engine refuses any key but its own: both columns answered, so each key went to its own host
        assert not at.error, [e.value for e in at.error]
        assert len(recorded_requests(engine_url, "/completions")) == before_here + 1
        root = other_url.removesuffix("/v1")
        there = httpx.get(f"{root}/local/requests", headers={"Authorization": f"Bearer {other_key}"}, timeout=5).json()["data"]
        assert len([r for r in there if r["path"].endswith("/completions")]) == 1
        headings = [m.value for m in at.markdown if m.value.startswith("**2.")]
        assert any("OpenAI-compatible server (http://127.0.0.1:" in h for h in headings)

        runs = History(default_path()).search().runs
        assert len(runs) == 2
        providers = [History(default_path()).get(r.id).provider for r in runs]
        assert sorted(p["provider"] for p in providers) == ["compatible", "local"]
        assert any(p.get("base_url") == other_url for p in providers)
        stored = b"".join(f.read_bytes() for f in default_path().parent.rglob("*") if f.is_file())
        assert other_key.encode() not in stored  # not in the history, nor any file of the app
        shown = " ".join(str(e.value) for kind in ("markdown", "caption", "code", "text") for e in at.get(kind))
        assert other_key not in shown
