"""Reusable Streamlit widgets. Logic lives in playground/."""
