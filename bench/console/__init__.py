"""`python -m bench console`: the teacher's console's page times with a big incident store."""
