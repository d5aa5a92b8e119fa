import streamlit as st
st.title('feature_maps')
st.write('coming soon')
