import streamlit as st

st.title("chat")
st.info("This page is being built.")
