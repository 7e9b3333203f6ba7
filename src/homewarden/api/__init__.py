"""The REST API and the web app's server side (FastAPI): one router per resource, access decided in deps.py."""
