"""The Dash app for practice clusters, commissioners and audit leads (see dashboards/README.md)."""
