"""Completions: a prompt, every sampling control, and what the model did with each token."""

import streamlit as st

from components.counts import live_prompt_count
from components.plain import inert
from components.presets import share_link
from components.run_view import render_code, run_section, text_page
from components.sampling_controls import draw_control
from components.stop_button import RunTriggers
from playground.params import params_for
from playground.requests import build_request, check_request, one_per_param

RESULT_KEY = "completions_result"

controls, main, link_slot = text_page(
    "completions", "Completions",
    "The model continues your prompt. Move a control, run, and see each token's probability and its alternatives.")
info = controls.info

with main:
    prompt, _ = draw_control(params_for("completions")["prompt"], "completions", info)
    share_link("completions", link_slot)
    prompt_tokens = live_prompt_count(info, controls.values["max_tokens"], prompt=prompt,
                                      typed_into={"completions_prompt": lambda text: text}, key="completions_count")

    request = build_request("completions", info, controls.values, prompt=prompt)
    problems = one_per_param(controls.problems, check_request(request, info, prompt_tokens=prompt_tokens))
    for problem in problems:
        st.warning(inert(problem), icon=":material/tune:")
    run_section(RESULT_KEY, request, info=info, prompt_tokens=prompt_tokens, disabled=bool(problems), key="completions",
                triggers=RunTriggers(buttons=["completions_run"], mod_enter="completions_run"))
    render_code(request, key="completions")
