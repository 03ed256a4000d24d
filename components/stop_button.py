"""A Stop button that is on screen the moment a run is asked for.

A Stop drawn by the script appears only when the rerun that Run starts has redrawn the
page down to it: hundreds of milliseconds, the page's controls first. This one is mounted
in every run, just below the page's Run. Its JS shows the button as soon as one of the
page's run triggers is pressed, before the script has even started. The script mounts it
as running when the run streams; it hides when the app's script stops running.

Pressing it sends a trigger. Like any rerun, that interrupts the stream; the page keeps
what arrived, marked stopped. Pressed before the request was sent, the run never starts.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import streamlit as st

from components.live_count import key_class

# Looks like Streamlit's secondary button; its theme colours come in as --st-* properties.
_CSS = """
.playground-stop button {
  display: inline-flex; align-items: center; gap: 0.5rem;
  min-height: 2.5rem; padding: 0.25rem 0.75rem; margin: 0;
  font-family: var(--st-font); font-size: 1rem; line-height: 1.6;
  color: var(--st-text-color); background: var(--st-background-color);
  border: 1px solid var(--st-border-color); border-radius: var(--st-button-radius, 0.5rem);
  cursor: pointer;
}
.playground-stop button:hover { border-color: var(--st-primary-color); color: var(--st-primary-color); }
/* Hidden, it takes no room: its element (and the gap after it) goes too. */
[data-testid="stElementContainer"]:has(> * .playground-stop[hidden]) { display: none; }
/* While it is on screen, what the last run drew below it (stale: not sent again yet) is gone,
   not faded: the new run replaces it, and a long run's token view kept under a growing stream
   costs the browser layout, paint and hit tests on every frame. */
[data-testid="stElementContainer"]:has(> * .playground-stop:not([hidden])) ~ [data-stale="true"],
[data-testid="stElementContainer"]:has(> * .playground-stop:not([hidden]))
  ~ [data-testid="stLayoutWrapper"]:not(:has([data-stale="false"])) { display: none; }
/* The same for a Stop in a row beside its Run: what the last run drew in the blocks below (a
   fragment's), and the blocks in them (expanders) with nothing of this run inside. Streamlit
   marks no block stale, but fades a stale expander's summary and border from 0.5 s into the run:
   Chromium then draws every frame for a second, the stream waiting. */
[data-testid="stLayoutWrapper"]:has(> [data-testid="stHorizontalBlock"] .playground-stop:not([hidden]))
  ~ * :is([data-stale="true"], [data-testid="stLayoutWrapper"]:not(:has([data-stale="false"]))) { display: none; }
.playground-stop .icon {
  font-family: "Material Symbols Rounded"; font-size: 1.25rem; line-height: 1;
  font-feature-settings: "liga"; -webkit-font-feature-settings: "liga";
}
"""

# On screen from the press of a run trigger, or from a running mount, until the app's
# script stops running (its stApp element says so; a watcher on it cannot miss the end of a
# run that finished before this code's asynchronous call). Triggers: clicks on enabled
# buttons matching `clicks`; Ctrl/Cmd+Enter when `mod_enter` names the (enabled) button it
# presses; Enter (no Shift) in a non-empty `enter_in` field.
_JS = """
export default function ({ parentElement, data, key, setTriggerValue }) {
  // Streamlit calls this again with each run's data without the previous call's cleanup:
  // that is done here, per mounted instance, so listeners never pile up.
  const registry = (window.__playgroundStop ??= {});
  registry[key]?.();
  // Built here, not as the component's html: that is sanitized, and a <button> in it is dropped.
  let box = parentElement.querySelector(".playground-stop");
  const made = !box;
  if (made) {
    box = document.createElement("div");
    box.className = "playground-stop";
    box.innerHTML = '<button type="button" title="Keep what arrived and stop generating.">' +
      '<span class="icon">stop_circle</span>Stop</button>';
    parentElement.appendChild(box);
  }
  const show = (on) => { box.hidden = !on; };
  const app = document.querySelector("[data-testid='stApp']");
  const idle = () => app?.dataset.testScriptState === "notRunning";
  // A run that streams shows it; no run hides it while a script runs: a press may have shown
  // it for a run still to come (a fragment's, queued behind this one). Each run's end does.
  if (idle() || (made && !data.running)) show(false);
  else if (data.running) show(true);
  const shown = (window.__playgroundStopShown ??= {});  // for stream_started
  const showNow = () => { if (!idle()) show(true); };
  shown[data.name] = showNow;
  const watcher = new MutationObserver(() => { if (idle()) show(false); });
  if (app) watcher.observe(app, { attributes: true, attributeFilter: ["data-test-script-state"] });
  const enabled = (selector) => {
    const target = selector && document.querySelector(selector);
    return Boolean(target) && !target.disabled;
  };
  const onClick = (event) => {
    const trigger = data.clicks.length ? event.target.closest?.(data.clicks.join(",")) : null;
    if (trigger && !trigger.disabled) show(true);
  };
  const onKey = (event) => {
    if (event.key !== "Enter" || event.isComposing || event.shiftKey) return;
    if ((event.ctrlKey || event.metaKey) && enabled(data.mod_enter)) return show(true);
    const field = event.target;
    if (data.enter_in.length && field.closest?.(data.enter_in.join(",")) && field.value?.trim()) show(true);
  };
  document.addEventListener("click", onClick, true);
  document.addEventListener("keydown", onKey, true);
  box.querySelector("button").onclick = () => {
    show(false);
    setTriggerValue("stop", true);
  };
  const stop = () => {
    watcher.disconnect();
    document.removeEventListener("click", onClick, true);
    document.removeEventListener("keydown", onKey, true);
    if (registry[key] === stop) delete registry[key];
    if (shown[data.name] === showNow) delete shown[data.name];
  };
  registry[key] = stop;
  return stop;
}
"""

_stop = st.components.v2.component("playground_stop_button", css=_CSS, js=_JS, isolate_styles=False)


def _button_selector(key: str) -> str:
    """CSS for the buttons of a widget key; "*" in it stands for any part (chat_msg:*:run)."""
    parts = [key_class(part)[len("st-key-"):] for part in key.split("*")]
    if len(parts) == 1:
        return f".st-key-{parts[0]} button"
    first, *rest = parts
    return f"[class*='st-key-{first}']" + "".join(f"[class*='{part}']" for part in rest if part) + " button"


@dataclass(frozen=True)
class RunTriggers:
    """What starts a run on a page, by widget key: buttons clicked (a key may hold "*"), the
    button Ctrl/Cmd+Enter presses, chat boxes submitted with Enter (or their send button)."""

    buttons: list[str] = field(default_factory=list)
    mod_enter: str | None = None
    chat_inputs: list[str] = field(default_factory=list)

    def as_data(self) -> dict:
        return {
            "clicks": [_button_selector(k) for k in self.buttons + self.chat_inputs],
            "mod_enter": _button_selector(self.mod_enter) if self.mod_enter else None,
            "enter_in": [f".{key_class(k)} textarea" for k in self.chat_inputs],
        }


def stop_button(key: str, *, running: bool, triggers: RunTriggers, on_press: Callable[[], None] | None = None) -> bool:
    """Mount the Stop (call it in every run, where it belongs); whether it was pressed.
    `running`: this run streams, so the Stop stays on screen until the run ends. `on_press`:
    called before the run the press makes, as a widget's callback."""
    data = {"name": key, "running": running, **triggers.as_data(),
            "mount": time.monotonic_ns()}  # new data each run: the JS runs again, with this run's word
    result = _stop(key=key, data=data, on_stop_change=on_press or (lambda: None))
    return bool(result.get("stop"))


# Shows the Stop named in its data, where a run starts streaming. A press shows it at once,
# but a run under way at the press (a control just changed) ends before the press's own run
# (a fragment's) starts, and that end hides it.
_STREAM_STARTED_JS = """
export default function ({ data }) {
  window.__playgroundStopShown?.[data.stop]?.();
}
"""
_stream_started = st.components.v2.component("playground_stream_started", js=_STREAM_STARTED_JS)


def stream_started(stop_key: str) -> None:
    """Mount where a run starts to stream: the Stop with this key is on screen for it."""
    _stream_started(key=f"{stop_key}_streaming", data={"stop": stop_key, "mount": time.monotonic_ns()})
