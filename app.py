"""The playground: st.navigation over the pages, the connection panel in the sidebar."""

import streamlit as st

from components.connection import connection_panel

st.set_page_config(page_title="OpenAI Playground", page_icon=":material/science:", layout="wide")

PAGES = {
    "": [st.Page("pages/home.py", title="Home", icon=":material/home:", default=True)],
    "Text": [
        st.Page("pages/completions.py", title="Completions", icon=":material/edit_note:"),
        st.Page("pages/chat.py", title="Chat", icon=":material/chat:"),
        st.Page("pages/tokenizer.py", title="Tokenizer", icon=":material/data_array:"),
    ],
    "Data": [
        st.Page("pages/embeddings.py", title="Embeddings search", icon=":material/travel_explore:"),
        st.Page("pages/fine_tuning.py", title="Fine-tuning", icon=":material/model_training:"),
    ],
    "Images": [st.Page("pages/images.py", title="Image variations", icon=":material/photo_library:")],
    "Workspace": [
        st.Page("pages/history.py", title="History", icon=":material/history:"),
        st.Page("pages/compare.py", title="Compare", icon=":material/compare:"),
    ],
}

page = st.navigation(PAGES)
connection_panel()
page.run()
