"""The shell: faust app, topics, agents and every adapter."""
