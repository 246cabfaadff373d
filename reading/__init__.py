"""The rule-based reading of French (and English) text, plain Python, no Rasa.

The parse service runs it after the model (`interpret` settles operator, sector, place and
roles from the model's output and the lexicon); the dialogue uses the same readers for
typed answers (`places`, `lexicon`). Imports only `domain`.
"""
