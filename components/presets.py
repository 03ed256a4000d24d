"""Presets, share links and the URL of the text pages, and "open this run in its page".

Controls reach a page through the session keys of its controls (components/sampling_controls.py),
set before those widgets are drawn: `presets_bar(page)` is called at the top of the page.
Once the controls are drawn, `share_link(page, slot)` writes them into the URL (every run,
from the first render: a reload or a copied address restores them) and into the share link
shown in the bar.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import streamlit as st

from components.connection import current_connection
from components.history import get_history, history_action
from components.models import choose_first
from components.plain import inert
from components.sampling_controls import put_controls, read_controls
from playground.history import History, Preset, PresetExists
from playground.migrations import LOCAL_WORKSPACE
from playground.params import complete
from playground.presets import ShareLinkError, from_query_params, to_query_params

PAGE_FILES = {"completions": "app_pages/completions.py", "chat": "app_pages/chat.py"}


def apply_controls(page: str, controls: dict[str, Any]) -> None:
    """Put `controls` into the page's widgets (call before they are drawn). A control
    `controls` leaves out is set to "not sent", so the page sends exactly these."""
    put_controls(page, page, complete(page, controls))


def current_controls(page: str) -> dict[str, Any]:
    """The page's controls as they are now (from session state)."""
    return read_controls(page, page)


def open_in_page(page: str, controls: dict[str, Any], note: str = "Controls restored from the history.") -> None:
    """Switch to `page` with its controls set to `controls`; `note` is toasted there."""
    st.session_state[f"_restore:{page}"] = controls
    st.session_state[f"_restore_note:{page}"] = note
    st.switch_page(PAGE_FILES[page])


def _apply_pending(page: str) -> None:
    """Controls handed over by open_in_page; or, on the page's first run in this session, the
    ones in the URL (a share link, or a reload)."""
    pending = st.session_state.pop(f"_restore:{page}", None)
    if pending is not None:
        apply_controls(page, pending)
        st.toast(st.session_state.pop(f"_restore_note:{page}", "Controls restored from the history."))
        return
    if st.session_state.get(f"_url_read:{page}"):
        return  # from now on the URL follows the controls, not the other way round
    st.session_state[f"_url_read:{page}"] = True
    params = {k: st.query_params.get_all(k) for k in st.query_params}
    if params.get("page") != [page]:
        return
    try:
        _, controls = from_query_params(params)
    except ShareLinkError as exc:
        st.warning("This link's settings could not be restored:\n\n" + "\n".join(f"- {p}" for p in exc.problems)
                   + "\n\nThe page keeps its current settings.", icon=":material/link_off:")
    else:
        apply_controls(page, controls)


def _write_url(page: str) -> dict[str, str]:
    params = to_query_params(current_controls(page), page=page, secrets=current_connection().secrets)
    st.query_params.from_dict(params)
    return params


def presets_bar(page: str):  # noqa: ANN201 - a Streamlit container
    """Presets (save, load, delete) in an expander, above the page's controls; returns the
    place for the share link (see `share_link`). The URL gets the controls at once (the
    browser drops an address written late in the first run after a page switch) and again
    once they are drawn."""
    _apply_pending(page)
    choose_first(page, key=f"{page}_model")
    _write_url(page)
    history = get_history()
    with st.expander("Presets and share link", icon=":material/bookmarks:"):
        if history is not None:
            _presets(page, history)
        return st.empty()


def _preset_key(preset: Preset) -> str:
    """What the picker holds: one's own preset by its name, a colleague's with its owner."""
    return preset.name if preset.mine else f"{preset.name} · shared by {preset.workspace}"


def _presets(page: str, history: History) -> None:
    """Pick, load, share, delete and save presets. A colleague's shared preset is loaded only:
    only its owner changes it. Saving under a name already taken asks before replacing."""
    presets: dict[str, Preset] = {}
    for preset in history.preset_list(page):  # one's own first: it wins a clash of keys
        presets.setdefault(_preset_key(preset), preset)
    picked = st.selectbox("Preset", list(presets), index=None,
                          key=f"preset_pick:{page}", placeholder="Saved presets",
                          format_func=lambda k: f"{k} · shared with the team" if k in presets and presets[k].mine and presets[k].shared else k)
    chosen = presets.get(picked) if picked else None
    mine = chosen is not None and chosen.mine
    not_mine_help = None if chosen is None or mine else f"Shared by {chosen.workspace}: only they can change it."

    def load() -> None:
        if chosen and (controls := history.load_preset(page, chosen.name, chosen.workspace)) is not None:
            apply_controls(page, controls)

    team = history.workspace != LOCAL_WORKSPACE  # a team server: per-user workspaces
    columns = st.columns(3 if team else 2)
    c1, c2, c3 = columns[0], columns[1], columns[2] if team else None
    c1.button("Load", key=f"preset_load:{page}", on_click=load, disabled=chosen is None, use_container_width=True)
    if c2.button("Delete", key=f"preset_delete:{page}", disabled=not mine, help=not_mine_help, use_container_width=True):
        if history_action(lambda: history.delete_preset(page, chosen.name), "delete the preset"):  # type: ignore[union-attr]
            st.rerun()
    if c3 is not None:
        sharing = chosen is not None and chosen.shared
        if c3.button("Stop sharing" if mine and sharing else "Share with the team", key=f"preset_share:{page}",
                     disabled=not mine, use_container_width=True,
                     help=not_mine_help or "Everyone on this server sees it; only you can change or delete it."):
            if history_action(lambda: history.share_preset(page, chosen.name, not sharing), "share the preset"):  # type: ignore[union-attr]
                st.toast(inert(f"“{chosen.name}” is {'no longer ' if sharing else ''}shared with the team."))  # type: ignore[union-attr]
                st.rerun()
    name = st.text_input("Save as", key=f"preset_name:{page}", placeholder="a name for these settings").strip()
    replacing = _replacing_key(page)
    if st.button("Save preset", key=f"preset_save:{page}", disabled=not name, use_container_width=True):
        _save(page, history, name, replace=False)
    if (taken := st.session_state.get(replacing)) is not None:
        st.warning(inert(f"You already have a preset named “{taken}”. Replace it with these settings?"), icon=":material/warning:")
        r1, r2 = st.columns(2)
        if r1.button("Replace", key=f"preset_replace:{page}", type="primary", use_container_width=True):
            _save(page, history, taken, replace=True)
        if r2.button("Cancel", key=f"preset_replace_cancel:{page}", use_container_width=True):
            del st.session_state[replacing]
            st.rerun()


def _replacing_key(page: str) -> str:
    """Where a save waits for Replace: the name it would replace."""
    return f"preset_replacing:{page}"


def _save(page: str, history: History, name: str, *, replace: bool) -> None:
    """Save the controls as this workspace's preset `name`; a name it already uses waits for
    an explicit Replace (a colleague's shared preset of that name is never touched)."""
    replacing = _replacing_key(page)
    st.session_state.pop(replacing, None)

    def put() -> bool:
        try:
            history.save_preset(page, name, current_controls(page), overwrite=replace)
        except PresetExists:
            st.session_state[replacing] = name
            return False
        return True

    if history_action(put, "save the preset"):
        st.toast(inert(f"{'Replaced' if replace else 'Saved'} the preset “{name}”."))
        st.rerun()  # the picker lists it


def share_link(page: str, slot) -> None:  # noqa: ANN001 - the container presets_bar returned
    """The controls as they are now, in the address bar and as the share link."""
    params = _write_url(page)
    base = (st.context.url or "").split("?")[0].rstrip("/")
    if not base.endswith(f"/{page}"):
        base = f"{base}/{page}" if base else f"/{page}"
    with slot.container():
        st.caption("Share link: these settings and the prompt, never a key or a server address.")
        st.code(f"{base}?{urlencode(params)}", language=None, wrap_lines=True)
