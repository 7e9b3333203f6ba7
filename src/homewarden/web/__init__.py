"""The household's web app: HTML pages whose data comes from the REST API (`homewarden.web.pages`)."""
