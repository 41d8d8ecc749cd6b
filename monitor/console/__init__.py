"""The operator console: a small web app served by the monitoring service."""
