"""Runtime services that run beside requests: webhook dispatch, rate limits, simulation, idle-tenant expiry. No Flask."""
