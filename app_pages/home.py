"""Home: what the app is and where to start."""

import streamlit as st

from components.connection import connection_status, current_connection
from components.plain import inert

st.title("OpenAI Playground")
st.markdown(
    "Try what each sampling parameter does, see every token's probability and the "
    "alternatives the model weighed, count tokens and cost, search your own documents "
    "with embeddings, fine-tune and watch the metrics, and make image variations."
)

connection = current_connection()
if connection.provider == "local":
    st.info(
        "You are on the **local engine**: small models that run on this machine, with no key "
        "and no network. They are real models (an n-gram language model trained on Python's "
        "docstrings, a TF-IDF embedding, seeded image transformations), so every control "
        "behaves as it does on OpenAI. Choose OpenAI, Azure or any compatible server in the "
        "sidebar to use yours.",
        icon=":material/offline_bolt:",
    )
else:
    ok, status = connection_status(connection)
    (st.info if ok else st.warning)(inert(status), icon=":material/cloud:" if ok else ":material/cloud_off:")

st.subheader("Where to start")
left, right = st.columns(2)
with left:
    st.page_link("app_pages/completions.py", label="Completions", icon=":material/edit_note:")
    st.caption("A prompt, every sampling control, and the probability of each token.")
    st.page_link("app_pages/chat.py", label="Chat", icon=":material/chat:")
    st.caption("A conversation with system, user and assistant messages; regenerate, edit, rerun.")
    st.page_link("app_pages/tokenizer.py", label="Tokenizer", icon=":material/data_array:")
    st.caption("How text splits into tokens in each encoding, and ids back to text.")
    st.page_link("app_pages/compare.py", label="Compare", icon=":material/compare:")
    st.caption("One prompt, up to four configurations side by side, differences highlighted.")
with right:
    st.page_link("app_pages/embeddings.py", label="Embeddings search", icon=":material/travel_explore:")
    st.caption("Embed a CSV or text corpus, search it, and see it on a map.")
    st.page_link("app_pages/fine_tuning.py", label="Fine-tuning", icon=":material/model_training:")
    st.caption("Check training data, start jobs, watch them live, chart their metrics.")
    st.page_link("app_pages/images.py", label="Image variations", icon=":material/photo_library:")
    st.caption("Turn any picture into variations.")
    st.page_link("app_pages/history.py", label="History", icon=":material/history:")
    st.caption("Every run kept on this machine: search it, reopen it, run it again, share it.")
