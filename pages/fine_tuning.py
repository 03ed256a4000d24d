import streamlit as st

st.title("fine_tuning")
st.info("This page is being built.")
