"""Cross-region transfers, joint mediation requests and routing of cases under agreements."""
