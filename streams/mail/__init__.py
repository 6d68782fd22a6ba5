"""Notices by e-mail: rendering (Jinja2, sandboxed), the Mailer port and its SMTP adapter,
the notice to the people affected sent from outside the worker."""
