import streamlit as st

st.title("completions")
st.info("This page is being built.")
