"""The monitoring report: endpoint data capture joined with workflow outcomes, as HTML + JSON."""
