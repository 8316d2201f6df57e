"""Command handlers: parse arguments, check permission, call a service, return a reply."""
