"""Reports a manager reads at a glance: figures from the writer's running totals."""
