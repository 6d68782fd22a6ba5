"""Paging the on-call team: by e-mail and webhooks, in each webhook's format."""
