"""What runs with Rasa 3.6.21, in the NLU environment (.venv-nlu, Python 3.10).

Training (`training`, `components`), the model behind the parse service (`rasa_backend`,
`parser`, `service`), evaluation (`evaluate`), the retraining job (`retrain`) and the
`jalerte-nlu` command. The bot never imports this package: it talks to the service through
`bot/process/nlu_client.py`. What both sides share lives in `domain/` (the alert's vocabulary)
and `reading/` (the rule-based reading of French text, no Rasa).
"""
