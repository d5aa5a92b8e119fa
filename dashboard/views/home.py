import streamlit as st
st.title('home')
st.write('coming soon')
