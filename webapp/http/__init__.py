"""Everything HTTP: the blueprints, request parameters, errors, security headers, logs and rate limits."""
