"""Work that waits until the browser has painted what the user is waiting for.

`after_paint(token, on_painted, key=...)` mounts a small component (no iframe, nothing
drawn). Once the browser has painted the elements drawn before it (two animation frames
after it was mounted or given a new token), it calls `on_painted` on the server, once per
token. A page draws what the user waits for first, then this; `on_painted` starts the slow
rest, e.g. `st.rerun` of a fragment with a WebGL chart, whose redraw holds the browser's
main thread for hundreds of milliseconds and would otherwise delay that paint.
"""

from __future__ import annotations

from typing import Callable

import streamlit as st

# The first frame runs before the paint of what was just committed, the second after it.
# A token is sent once per tab, even when a rerun mounts the component again with it.
_JS = """
export default function ({ data, setTriggerValue }) {
  const sent = (window.__playgroundPainted ??= {});
  if (data.token === null || sent[data.name] === data.token) return;
  let frame = requestAnimationFrame(() => {
    frame = requestAnimationFrame(() => {
      if (sent[data.name] === data.token) return;
      sent[data.name] = data.token;
      setTriggerValue("painted", data.token);
    });
  });
  return () => cancelAnimationFrame(frame);
}
"""

_signal = st.components.v2.component("playground_after_paint", js=_JS)


def after_paint(token: str | int | None, on_painted: Callable[[], None], *, key: str) -> None:
    """Call `on_painted` (a widget callback: it may `st.rerun` fragments by key) once the
    browser has painted this run's elements drawn so far; again only for a new token.
    None: nothing is waited for."""
    _signal(key=key, data={"token": token, "name": key}, height=0, on_painted_change=on_painted)
