"""Reusable Streamlit widgets. Logic lives in playground/."""

import streamlit as _st
from streamlit.runtime.pages_manager import PagesManager as _PagesManager

# Streamlit decides at start-up that an app with a `pages/` folder is a v1 multipage app,
# until the first run of app.py's st.navigation says otherwise. So the first visit after a
# server start that opens a page's own URL (a bookmark, a refresh) runs that page alone:
# no sidebar, no connection panel. Every page imports this package: when that happens,
# switch to st.navigation and run again through app.py, on the same page.
if _PagesManager.uses_pages_directory:
    _PagesManager.uses_pages_directory = False
    _st.rerun()
