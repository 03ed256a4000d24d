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
START = [  # (page, label, icon, what it is for), in two columns
    [("completions", "Completions", "edit_note", "A prompt, every sampling control, and the probability of each token."),
     ("chat", "Chat", "chat", "A conversation with system, user and assistant messages; regenerate, edit, rerun."),
     ("tokenizer", "Tokenizer", "data_array", "How text splits into tokens in each encoding, and ids back to text."),
     ("compare", "Compare", "compare", "One prompt, up to four configurations side by side, differences highlighted.")],
    [("embeddings", "Embeddings search", "travel_explore", "Embed a CSV or text corpus, search it, and see it on a map."),
     ("fine_tuning", "Fine-tuning", "model_training", "Check training data, start jobs, watch them live, chart their metrics."),
     ("images", "Image variations", "photo_library", "Turn any picture into variations."),
     ("history", "History", "history", "Every run kept on this machine: search it, reopen it, run it again, share it.")],
]
for column, links in zip(st.columns(2), START):
    with column:
        for name, label, icon, purpose in links:
            st.page_link(f"app_pages/{name}.py", label=label, icon=f":material/{icon}:")
            st.caption(purpose)
