"""The playground's logic. Never imports streamlit."""
