"""The bundled example add-on publishers: anagram, sentiment, reputation and voice insights.

Run them with `python -m publishers --port 8101 --auth-token-file PATH`; each service's
computation lives in its own module, the request signature check in `signature`, and the
HTTP server in `server`. Their listing manifests are in `manifests/`.
"""
