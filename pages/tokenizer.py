import streamlit as st

st.title("tokenizer")
st.info("This page is being built.")
