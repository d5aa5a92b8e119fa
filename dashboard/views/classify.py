import streamlit as st
st.title('classify')
st.write('coming soon')
