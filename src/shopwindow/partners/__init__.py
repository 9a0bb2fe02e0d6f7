"""Partner platforms: registration, domains, URL acceptance, product data, commission terms."""
