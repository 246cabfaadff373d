"""Language understanding: turns a user's message into taxonomy ids.

Only `nlu.rasa_backend` and `nlu.training` import Rasa; everything else here
(taxonomy, lexicon, post-processing) is plain Python that the dialogue engine may use.
"""
