"""The playground: st.navigation over the pages, the connection panel in the sidebar."""

import streamlit as st

from components.collector import collector
from components.connection import connection_panel

st.set_page_config(page_title="OpenAI Playground", page_icon=":material/science:", layout="wide")

PAGES = {
    "": [st.Page("app_pages/home.py", title="Home", icon=":material/home:", default=True)],
    "Text": [
        st.Page("app_pages/completions.py", title="Completions", icon=":material/edit_note:"),
        st.Page("app_pages/chat.py", title="Chat", icon=":material/chat:"),
        st.Page("app_pages/responses.py", title="Responses", icon=":material/forum:"),
        st.Page("app_pages/tokenizer.py", title="Tokenizer", icon=":material/data_array:"),
    ],
    "Data": [
        st.Page("app_pages/embeddings.py", title="Embeddings search", icon=":material/travel_explore:"),
        st.Page("app_pages/fine_tuning.py", title="Fine-tuning", icon=":material/model_training:"),
    ],
    "Images": [st.Page("app_pages/images.py", title="Image variations", icon=":material/photo_library:")],
    "Workspace": [
        st.Page("app_pages/history.py", title="History", icon=":material/history:"),
        st.Page("app_pages/compare.py", title="Compare", icon=":material/compare:"),
        st.Page("app_pages/evals.py", title="Evals", icon=":material/fact_check:"),
    ],
}

with collector.script():  # full garbage collections wait until no script runs
    page = st.navigation(PAGES)
    connection_panel()
    page.run()
