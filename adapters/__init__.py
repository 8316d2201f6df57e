"""Platform adapters: translate Slack, Teams and console input to the core and render replies."""
