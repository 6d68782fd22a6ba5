"""Agents: each module's ``register(app, topics, tables, deps)`` adds one thin agent."""
