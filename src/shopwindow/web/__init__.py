"""HTTP layer: dependencies, error mapping, templates, static files, API routers."""
