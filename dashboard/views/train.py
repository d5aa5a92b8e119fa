import streamlit as st
st.title('train')
st.write('coming soon')
