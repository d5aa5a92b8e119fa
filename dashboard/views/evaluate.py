import streamlit as st
st.title('evaluate')
st.write('coming soon')
